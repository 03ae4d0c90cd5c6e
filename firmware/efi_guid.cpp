// EFI GUID text <-> on-disk bytes (see efi_guid.h).
#include "firmware/efi_guid.h"

#include <cstdio>

#include "base/error.h"

namespace mkguest::efi {

bool try_parse_guid(std::string_view t, EfiGuid* out) {
  if (t.size() != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-') return false;
  std::array<std::uint8_t, 16> be{};
  std::size_t k = 0;
  for (std::size_t i = 0; i < t.size();) {
    if (t[i] == '-') {
      ++i;
      continue;
    }
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = nib(t[i]), lo = i + 1 < t.size() ? nib(t[i + 1]) : -1;
    if (hi < 0 || lo < 0 || k >= 16) return false;
    be[k++] = static_cast<std::uint8_t>(hi << 4 | lo);
    i += 2;
  }
  if (k != 16) return false;
  EfiGuid g{be[3], be[2], be[1], be[0], be[5], be[4], be[7], be[6]};
  for (int i = 8; i < 16; ++i) g[i] = be[i];
  *out = g;
  return true;
}

EfiGuid parse_guid(std::string_view text) {
  EfiGuid g{};
  if (!try_parse_guid(text, &g)) throw InternalError("malformed GUID literal " + std::string(text));
  return g;
}

std::string guid_to_string(const EfiGuid& g) {
  char buf[40];
  std::snprintf(buf, sizeof buf,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[3], g[2],
                g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14],
                g[15]);
  return buf;
}

EfiGuid guid_at(const ByteReader& r, std::size_t off) {
  EfiGuid g{};
  auto b = r.bytes(off, 16);
  for (int i = 0; i < 16; ++i) g[i] = b[i];
  return g;
}

}  // namespace mkguest::efi
