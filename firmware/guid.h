// EFI GUIDs: 16 bytes stored in the mixed-endian EFI order (the first three
// fields little-endian, the last eight bytes as written), as OVMF's footer
// table and QEMU's SEV hashes table store them.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/byte_reader.h"

namespace mkguest {

class Guid {
 public:
  Guid() = default;
  // Parses "96b582de-1fb2-45f7-baea-a366c55a082d"; throws InternalError on a
  // malformed constant (GUIDs in code are constants).
  static Guid parse(std::string_view text);
  static Guid from_bytes(std::span<const std::uint8_t> b);  // 16 bytes, EFI order
  // Parses user text (any hex case); false when malformed.
  static bool try_parse(std::string_view text, Guid* out);
  // The 16 bytes at `off` of `r` (InputError naming the offset when short).
  static Guid at(const ByteReader& r, std::size_t off);

  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  std::string str() const;
  bool operator==(const Guid& o) const { return bytes_ == o.bytes_; }
  bool operator<(const Guid& o) const { return bytes_ < o.bytes_; }

 private:
  std::array<std::uint8_t, 16> bytes_{};
};

}  // namespace mkguest
