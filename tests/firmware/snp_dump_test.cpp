// Writes the SNP fixtures into $MKGUEST_SNP_FIXTURES, so that golden values can
// be produced with the reference tool (see tests/vectors/snp.txt). Hidden:
// run it explicitly with `mkguest_tests "[.snp-dump]"`.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "tests/snp_fixtures.h"

TEST_CASE("dump SNP fixtures", "[.snp-dump]") {
  const char* dir = std::getenv("MKGUEST_SNP_FIXTURES");
  REQUIRE(dir != nullptr);
  mkguest::test::write_snp_fixtures(dir);
}
