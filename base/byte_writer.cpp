#include "base/byte_writer.h"

#include "base/error.h"

namespace mkguest {

namespace {
void store(std::uint8_t* p, std::uint64_t v, std::size_t n, bool big) {
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t idx = big ? n - 1 - i : i;
    p[idx] = static_cast<std::uint8_t>(v >> (8 * i));
  }
}
}  // namespace

void ByteWriter::put(std::uint64_t v, std::size_t n, bool big) {
  std::size_t at = buf_.size();
  buf_.resize(at + n);
  store(buf_.data() + at, v, n, big);
}

void ByteWriter::patch(std::size_t off, std::uint64_t v, std::size_t n, bool big) {
  if (!(off <= buf_.size() && n <= buf_.size() - off)) {
    throw InternalError("ByteWriter: patch at " + hex_offset(off) + " past the end");
  }
  store(buf_.data() + off, v, n, big);
}

void ByteWriter::fixed_string(std::string_view s, std::size_t len) {
  if (s.size() > len) {
    throw InternalError("ByteWriter: string '" + std::string(s) + "' longer than its field");
  }
  append(s);
  zeros(len - s.size());
}

void store_le16(std::uint8_t* p, std::uint16_t v) { store(p, v, 2, false); }
void store_le32(std::uint8_t* p, std::uint32_t v) { store(p, v, 4, false); }
void store_le64(std::uint8_t* p, std::uint64_t v) { store(p, v, 8, false); }
void store_be32(std::uint8_t* p, std::uint32_t v) { store(p, v, 4, true); }
void store_be64(std::uint8_t* p, std::uint64_t v) { store(p, v, 8, true); }

}  // namespace mkguest
