#include "builder/formats/evidence/fields.h"

#include <cstdio>

namespace mkguest::evidence {

Bytes copy(const ByteReader& r, std::size_t off, std::size_t len) {
  const auto b = r.bytes(off, len);
  return Bytes(b.begin(), b.end());
}

void must_be_zero(const ByteReader& r, std::size_t off, std::size_t len, const char* what) {
  const auto b = r.bytes(off, len);
  for (std::size_t i = 0; i < b.size(); ++i)
    if (b[i] != 0) {
      char msg[160];
      std::snprintf(msg, sizeof msg, "%s is reserved and must be zero, found 0x%02x", what, b[i]);
      r.fail(off + i, msg);
    }
}

}  // namespace mkguest::evidence
