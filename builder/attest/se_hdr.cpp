// The SE header as the attestation exports see it (attest_se_hdr.h): the
// strict reader of builder/formats/se/reader.h, reduced to what Trustee consumes.
#include "builder/attest/se_hdr.h"

#include "builder/formats/se/reader.h"

namespace mkguest::attest {

SeHeader find_se_header(std::span<const std::uint8_t> image, const std::string& source) {
  const se::Header h = se::parse_header(image, source);
  SeHeader out;
  out.offset = h.offset;
  out.bytes.assign(h.raw.begin(), h.raw.end());
  for (const auto& s : h.slots) out.phkh.push_back(to_hex(s.phkh));
  out.tag = to_hex(h.tag);
  return out;
}

}  // namespace mkguest::attest
