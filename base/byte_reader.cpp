#include "base/byte_reader.h"

namespace mkguest {

ByteReader::ByteReader(std::span<const std::uint8_t> data, std::string source, std::uint64_t base)
    : data_(data), source_(std::move(source)), base_(base) {}

void ByteReader::fail(std::size_t off, const std::string& message) const {
  throw offset_error(source_, absolute(off), message);
}

void ByteReader::need(std::size_t off, std::size_t len, std::string_view what) const {
  if (!has(off, len)) {
    fail(off, std::string(what) + " (" + std::to_string(len) +
                  " bytes) runs past the end of the input (size " +
                  hex_offset(absolute(data_.size())) + ")");
  }
}

std::uint64_t ByteReader::load(std::size_t off, std::size_t len, bool big) const {
  need(off, len, std::to_string(len * 8) + "-bit field");
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < len; ++i) {
    std::size_t idx = big ? i : len - 1 - i;
    v = (v << 8) | data_[off + idx];
  }
  return v;
}

std::uint8_t ByteReader::u8(std::size_t off) const {
  return static_cast<std::uint8_t>(load(off, 1, false));
}
std::uint16_t ByteReader::le16(std::size_t off) const {
  return static_cast<std::uint16_t>(load(off, 2, false));
}
std::uint32_t ByteReader::le32(std::size_t off) const {
  return static_cast<std::uint32_t>(load(off, 4, false));
}
std::uint64_t ByteReader::le64(std::size_t off) const { return load(off, 8, false); }
std::uint16_t ByteReader::be16(std::size_t off) const {
  return static_cast<std::uint16_t>(load(off, 2, true));
}
std::uint32_t ByteReader::be32(std::size_t off) const {
  return static_cast<std::uint32_t>(load(off, 4, true));
}
std::uint64_t ByteReader::be64(std::size_t off) const { return load(off, 8, true); }

std::span<const std::uint8_t> ByteReader::bytes(std::size_t off, std::size_t len) const {
  need(off, len, "byte range");
  return data_.subspan(off, len);
}

std::string ByteReader::cstring(std::size_t off, std::size_t len) const {
  auto b = bytes(off, len);
  std::string s;
  for (auto c : b) {
    if (c == 0) break;
    s.push_back(static_cast<char>(c));
  }
  return s;
}

ByteReader ByteReader::sub(std::size_t off, std::size_t len) const {
  need(off, len, "sub-range");
  return ByteReader(data_.subspan(off, len), source_, absolute(off));
}

}  // namespace mkguest
