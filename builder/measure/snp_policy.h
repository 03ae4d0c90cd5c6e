// The SEV-SNP guest policy (AMD SEV-SNP ABI specification 1.55, §4.3, table
// "Guest Policy Structure"): the 64-bit word a guest is launched with and
// that its attestation report carries in POLICY. One encoder for the build,
// one decoder for `verify` (and for explaining a report's value):
//   bits 7:0  ABI_MINOR        bit 16 SMT allowed      bit 19 DEBUG
//   bits 15:8 ABI_MAJOR        bit 17 reserved, MBO    bit 20 SINGLE_SOCKET
//                              bit 18 MIGRATE_MA       bits 63:21 not set by mkguest
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace mkguest::snp {

struct SnpPolicy {
  std::uint8_t abi_major = 0;
  std::uint8_t abi_minor = 0;
  bool smt_allowed = true;
  bool migrate_ma = false;
  bool debug = false;
  bool single_socket = false;

  bool operator==(const SnpPolicy&) const = default;
};

// The policy word, with bit 17 (must be one) set.
std::uint64_t snp_policy_word(const SnpPolicy& p);

// The fields of `word`. Returns nothing and sets `*problem` when bit 17 is
// clear or a bit above 20 is set (a policy mkguest never writes).
std::optional<SnpPolicy> decode_snp_policy(std::uint64_t word, std::string* problem);

}  // namespace mkguest::snp
