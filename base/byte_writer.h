// Endian-typed emission into a growing buffer, with patching of fields whose
// value is known only after layout (sizes, checksums, offsets).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace mkguest {

class ByteWriter {
 public:
  ByteWriter() = default;
  explicit ByteWriter(std::size_t reserve) { buf_.reserve(reserve); }

  std::size_t size() const { return buf_.size(); }
  const std::vector<std::uint8_t>& bytes() const { return buf_; }
  std::vector<std::uint8_t> take() { return std::move(buf_); }

  void u8(std::uint8_t v) { buf_.push_back(v); }
  void le16(std::uint16_t v) { put(v, 2, false); }
  void le32(std::uint32_t v) { put(v, 4, false); }
  void le64(std::uint64_t v) { put(v, 8, false); }
  void be16(std::uint16_t v) { put(v, 2, true); }
  void be32(std::uint32_t v) { put(v, 4, true); }
  void be64(std::uint64_t v) { put(v, 8, true); }
  void append(std::span<const std::uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  void append(std::string_view s) { buf_.insert(buf_.end(), s.begin(), s.end()); }
  void zeros(std::size_t n) { buf_.resize(buf_.size() + n, 0); }
  // Pads with zeros up to a multiple of `align` (a power of two or any value > 0).
  void align(std::size_t align) {
    if (align > 1 && buf_.size() % align) zeros(align - buf_.size() % align);
  }
  // A fixed-size field: `s` then NULs; `s` must fit.
  void fixed_string(std::string_view s, std::size_t len);

  void patch_le16(std::size_t off, std::uint16_t v) { patch(off, v, 2, false); }
  void patch_le32(std::size_t off, std::uint32_t v) { patch(off, v, 4, false); }
  void patch_le64(std::size_t off, std::uint64_t v) { patch(off, v, 8, false); }
  void patch_be32(std::size_t off, std::uint32_t v) { patch(off, v, 4, true); }
  void patch_be64(std::size_t off, std::uint64_t v) { patch(off, v, 8, true); }

 private:
  void put(std::uint64_t v, std::size_t n, bool big);
  void patch(std::size_t off, std::uint64_t v, std::size_t n, bool big);
  std::vector<std::uint8_t> buf_;
};

// Stores without a buffer object, for fixed-layout records.
void store_le16(std::uint8_t* p, std::uint16_t v);
void store_le32(std::uint8_t* p, std::uint32_t v);
void store_le64(std::uint8_t* p, std::uint64_t v);
void store_be32(std::uint8_t* p, std::uint32_t v);
void store_be64(std::uint8_t* p, std::uint64_t v);

}  // namespace mkguest
