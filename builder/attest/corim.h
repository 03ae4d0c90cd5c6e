// CoRIM reference values of a manifest (docs/corim.md): an unsigned CoRIM,
// draft-ietf-rats-corim-07 §4:
//   tagged-unsigned-corim-map = #6.501({0: id, 1: [+ #6.506(bstr .cbor concise-mid-tag)],
//                                        4: {0: #6.1(not-before), 1: #6.1(not-after)},
//                                        5: [{0: entity-name, 2: [role]}]})
// with one CoMID (§5) per platform the manifest measures, each holding one
// reference-triple [environment-map, [+ measurement-map]]:
//   snp  class-id #6.111(OID 1.3.6.1.4.1.3704.3.1), mkey 641 MEASUREMENT digests
//        [[7, d]...] (one per matrix entry), mkey 2 POLICY raw-value #6.560(8 bytes LE),
//        mkey 642 HOST_DATA and 643 ID_KEY_DIGEST when the manifest has them
//        (draft-deeglaze-amd-sev-snp-corim-profile, editor's copy after -02);
//   tdx  class {vendor "Intel Corporation", model "TDX"}, mkeys "mrtd" (both
//        orders), "rtmr1", "rtmr2", "mrconfigid", "xfam" when present, and
//        TDATTRIBUTES under mkey 82 (the Intel profile's tee.attributes) when pinned;
//   tpm  class {vendor "TCG", model "vTPM"}, mkey = PCR index (4, 9, 11, 12), digests
//        per bank (sha-256 1, sha-384 7, sha-512 8; SHA-1 has no Named
//        Information id and is left out), name = the measured component;
//   se   class {vendor "IBM", model "Secure Execution"}, mkey "tag" raw-value
//        #6.560(16 bytes), mkey "image_phkh" digests [[1, phkh]...].
// Several accepted values of one register are several entries of its digests list.
#pragma once

#include <cstdint>
#include <string>

#include "base/digest.h"
#include "builder/manifest/json_util.h"

namespace mkguest::attest {

inline constexpr std::uint64_t kCborTagCorim = 501;
inline constexpr std::uint64_t kCborTagComid = 506;

struct CorimOptions {
  std::string id;                   // corim id (default: "<recipe.name>-<recipe.version>")
  std::string creator = "mkguest";  // entity name with the roles tag-creator, creator
  std::int64_t valid_days = 365;    // not-after = source date + valid_days
};

// The validity of a manifest's CoRIM: [source date, source date + valid_days].
struct CorimValidity {
  std::int64_t not_before = 0, not_after = 0;
};
CorimValidity corim_validity(const json& manifest, const CorimOptions& o);

// The unsigned CoRIM (#6.501) of a manifest's measurements, deterministic
// CBOR. InputError naming `source` when a value is malformed or the manifest
// measures no platform.
Bytes corim_unsigned(const json& manifest, const CorimOptions& o, const std::string& source);

}  // namespace mkguest::attest
