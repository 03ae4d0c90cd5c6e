#include "firmware/guid.h"

#include <cctype>
#include <cstdio>

#include "base/digest.h"
#include "base/error.h"

namespace mkguest {

bool Guid::try_parse(std::string_view t, Guid* out) {
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return false;
  std::string hex;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    if (!std::isxdigit(static_cast<unsigned char>(t[i]))) return false;
    hex.push_back(t[i]);
  }
  Bytes b;
  if (!from_hex(hex, &b) || b.size() != 16) return false;
  // time_low, time_mid and time_hi are stored little-endian.
  const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  for (int i = 0; i < 16; ++i) out->bytes_[i] = b[order[i]];
  return true;
}

Guid Guid::parse(std::string_view text) {
  Guid g;
  if (!try_parse(text, &g)) {
    throw InternalError("malformed GUID constant '" + std::string(text) + "'");
  }
  return g;
}

Guid Guid::at(const ByteReader& r, std::size_t off) { return from_bytes(r.bytes(off, 16)); }

Guid Guid::from_bytes(std::span<const std::uint8_t> b) {
  if (b.size() != 16) throw InternalError("a GUID has 16 bytes");
  Guid g;
  for (int i = 0; i < 16; ++i) g.bytes_[i] = b[i];
  return g;
}

std::string Guid::str() const {
  const auto& b = bytes_;
  char s[37];
  std::snprintf(s, sizeof s, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12],
                b[13], b[14], b[15]);
  return s;
}

}  // namespace mkguest
