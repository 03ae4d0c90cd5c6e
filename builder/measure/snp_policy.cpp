// The SEV-SNP guest policy word; see snp_policy.h.
#include "builder/measure/snp_policy.h"

namespace mkguest::snp {

namespace {
constexpr std::uint64_t kSmt = 1ull << 16;
constexpr std::uint64_t kReservedOne = 1ull << 17;
constexpr std::uint64_t kMigrateMa = 1ull << 18;
constexpr std::uint64_t kDebug = 1ull << 19;
constexpr std::uint64_t kSingleSocket = 1ull << 20;
constexpr std::uint64_t kKnown = 0xffff | kSmt | kReservedOne | kMigrateMa | kDebug | kSingleSocket;
}  // namespace

std::uint64_t snp_policy_word(const SnpPolicy& p) {
  return static_cast<std::uint64_t>(p.abi_minor) | static_cast<std::uint64_t>(p.abi_major) << 8 |
         (p.smt_allowed ? kSmt : 0) | kReservedOne | (p.migrate_ma ? kMigrateMa : 0) |
         (p.debug ? kDebug : 0) | (p.single_socket ? kSingleSocket : 0);
}

std::optional<SnpPolicy> decode_snp_policy(std::uint64_t word, std::string* problem) {
  if (!(word & kReservedOne)) {
    *problem = "bit 17 (reserved, must be one) is clear";
    return std::nullopt;
  }
  if (word & ~kKnown) {
    *problem = "bits above 20 are set, which mkguest never writes";
    return std::nullopt;
  }
  SnpPolicy p;
  p.abi_minor = static_cast<std::uint8_t>(word & 0xff);
  p.abi_major = static_cast<std::uint8_t>((word >> 8) & 0xff);
  p.smt_allowed = word & kSmt;
  p.migrate_ma = word & kMigrateMa;
  p.debug = word & kDebug;
  p.single_socket = word & kSingleSocket;
  return p;
}

}  // namespace mkguest::snp
