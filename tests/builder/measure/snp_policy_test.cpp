// The SEV-SNP guest policy word (builder/measure/snp_policy.h). Expected
// words: sev-snp-measure's and snp-create-id-block's default 0x30000 (SMT
// allowed, bit 17), and the bit positions of the SNP ABI 1.55 table, written
// out as literals here rather than computed.
#include "builder/measure/snp_policy.h"

#include <catch2/catch.hpp>

using namespace mkguest::snp;

TEST_CASE("snp policy: the word of each field, and back", "[snp][policy]") {
  SnpPolicy p;
  CHECK(snp_policy_word(p) == 0x30000);  // the reference tools' default
  p.smt_allowed = false;
  CHECK(snp_policy_word(p) == 0x20000);
  p.debug = true;
  CHECK(snp_policy_word(p) == 0xa0000);
  p.migrate_ma = true;
  CHECK(snp_policy_word(p) == 0xe0000);
  p.single_socket = true;
  CHECK(snp_policy_word(p) == 0x1e0000);
  p.abi_major = 1;
  p.abi_minor = 0x37;
  CHECK(snp_policy_word(p) == 0x1e0137);
  std::string why;
  const auto back = decode_snp_policy(0x1e0137, &why);
  REQUIRE(back);
  CHECK(*back == p);
  // Every combination of the four flags round-trips.
  for (unsigned m = 0; m < 16; ++m) {
    const std::uint64_t w = 0x20203 | (m & 1 ? 1u << 16 : 0) | (m & 2 ? 1u << 18 : 0) |
                            (m & 4 ? 1u << 19 : 0) | (m & 8 ? 1u << 20 : 0);
    INFO(w);
    const auto d = decode_snp_policy(w, &why);
    REQUIRE(d);
    CHECK(snp_policy_word(*d) == w);
  }
}

TEST_CASE("snp policy: words mkguest never writes are refused with the reason", "[snp][policy]") {
  std::string why;
  CHECK_FALSE(decode_snp_policy(0x10000, &why));
  CHECK(why == "bit 17 (reserved, must be one) is clear");
  CHECK_FALSE(decode_snp_policy(0x30000 | 1ull << 21, &why));
  CHECK(why == "bits above 20 are set, which mkguest never writes");
}
