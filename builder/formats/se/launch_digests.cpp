#include "builder/formats/se/launch_digests.h"

#include "base/byte_writer.h"
#include "builder/formats/se/crypto.h"

namespace mkguest::se {

LaunchDigests launch_digests(std::span<const MeasuredComponent> comps, const StoredBytes& stored) {
  constexpr std::uint64_t kPageBytes = 4096;
  Hasher pld(HashAlg::kSha512), ald(HashAlg::kSha512), tld(HashAlg::kSha512);
  LaunchDigests d;
  for (std::size_t i = 0; i < comps.size(); ++i) {
    const MeasuredComponent& c = comps[i];
    stored(i, [&](std::span<const std::uint8_t> b) { pld.update(b); });
    std::array<std::uint8_t, 16> t = c.tweak;
    for (std::uint64_t p = 0; p < c.size; p += kPageBytes, ++d.nep) {
      ByteWriter a;
      a.be64(c.addr + p);
      ald.update(a.bytes());
      tld.update(std::span<const std::uint8_t>(t));
      add_be128(t, kPageBytes);
    }
  }
  d.pld = pld.finish();
  d.ald = ald.finish();
  d.tld = tld.finish();
  return d;
}

}  // namespace mkguest::se
