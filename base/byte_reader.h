// Bounds-checked reading of binary input. Every read names its endianness,
// every bound is checked by comparing sizes (off <= size && len <= size - off),
// and every failure names the source and the absolute offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"

namespace mkguest {

class ByteReader {
 public:
  // `base` is the absolute offset of data[0] within `source`, used in errors.
  ByteReader(std::span<const std::uint8_t> data, std::string source, std::uint64_t base = 0);

  std::size_t size() const { return data_.size(); }
  std::span<const std::uint8_t> data() const { return data_; }
  const std::string& source() const { return source_; }
  std::uint64_t base() const { return base_; }
  std::uint64_t absolute(std::size_t off) const { return base_ + off; }

  bool has(std::size_t off, std::size_t len) const {
    return off <= data_.size() && len <= data_.size() - off;
  }
  // Throws "source:0xOFF: error: <what> runs past the end" unless has(off, len).
  void need(std::size_t off, std::size_t len, std::string_view what) const;

  std::uint8_t u8(std::size_t off) const;
  std::uint16_t le16(std::size_t off) const;
  std::uint32_t le32(std::size_t off) const;
  std::uint64_t le64(std::size_t off) const;
  std::uint16_t be16(std::size_t off) const;
  std::uint32_t be32(std::size_t off) const;
  std::uint64_t be64(std::size_t off) const;

  std::span<const std::uint8_t> bytes(std::size_t off, std::size_t len) const;
  // A NUL-padded ASCII field: the bytes up to the first NUL.
  std::string cstring(std::size_t off, std::size_t len) const;
  // A reader over [off, off+len) that reports absolute offsets.
  ByteReader sub(std::size_t off, std::size_t len) const;

  // Throws an InputError naming source and absolute offset.
  [[noreturn]] void fail(std::size_t off, const std::string& message) const;

 private:
  std::uint64_t load(std::size_t off, std::size_t len, bool big) const;

  std::span<const std::uint8_t> data_;
  std::string source_;
  std::uint64_t base_;
};

// Sequential reads on top of ByteReader.
class ByteCursor {
 public:
  explicit ByteCursor(const ByteReader& reader, std::size_t pos = 0) : reader_(reader), pos_(pos) {}
  std::size_t pos() const { return pos_; }
  void seek(std::size_t pos) { pos_ = pos; }
  std::size_t remaining() const { return pos_ <= reader_.size() ? reader_.size() - pos_ : 0; }
  std::uint8_t u8() { return advance(reader_.u8(pos_), 1); }
  std::uint16_t le16() { return advance(reader_.le16(pos_), 2); }
  std::uint32_t le32() { return advance(reader_.le32(pos_), 4); }
  std::uint64_t le64() { return advance(reader_.le64(pos_), 8); }
  std::uint16_t be16() { return advance(reader_.be16(pos_), 2); }
  std::uint32_t be32() { return advance(reader_.be32(pos_), 4); }
  std::uint64_t be64() { return advance(reader_.be64(pos_), 8); }
  std::span<const std::uint8_t> bytes(std::size_t len) {
    auto b = reader_.bytes(pos_, len);
    pos_ += len;
    return b;
  }
  void skip(std::size_t len) {
    reader_.need(pos_, len, "skipped bytes");
    pos_ += len;
  }

 private:
  template <typename T>
  T advance(T v, std::size_t n) {
    pos_ += n;
    return v;
  }
  const ByteReader& reader_;
  std::size_t pos_;
};

}  // namespace mkguest
