// `mkguest explain` end to end: exit 0 on a match, 1 on an explained
// mismatch (with the cause printed), 2 on a file that is not evidence, and
// nothing on stdout when any evidence file is bad.
#include <catch2/catch.hpp>

#include "base/file.h"
#include "builder/manifest/json_util.h"
#include "tests/explain_fixture.h"
#include "tests/test_util.h"

namespace mkguest {
namespace {

TEST_CASE("explain cli: match, explained mismatch, bad evidence", "[explain][cli]") {
  test::Build b;
  write_file(b.dir / "match.bin", b.report(test::milan(1)));
  write_file(b.dir / "six.bin", b.report(test::milan(2)));
  const std::string out = b.out.string(), inputs = b.inputs.string();
  const std::string match = (b.dir / "match.bin").string(), six = (b.dir / "six.bin").string();

  auto r = test::run_mkguest({"explain", out, match, "--inputs", inputs});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("match.bin (snp-report): MATCH"));
  CHECK_THAT(r.out, Catch::Contains("signature: not checked"));

  r = test::run_mkguest({"explain", out, match, six, "--inputs", inputs, "--threads", "2"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("six.bin (snp-report): MISMATCH"));
  CHECK_THAT(r.out, Catch::Contains("the VM ran with 2 vCPUs; the recipe measured 1 and 4"));

  r = test::run_mkguest({"explain", out, six, "--inputs", inputs, "--json"});
  CHECK(r.exit_code == 1);
  const auto doc = attest::json::parse(r.out);
  CHECK(doc["match"] == false);
  CHECK(doc["evidence"][0]["checks"][0]["check"] == "measurement");
  CHECK(doc["evidence"][0]["checks"][0]["details"]["reproduced_by"][0]["vcpus"] == 2);

  // Not evidence: a short file, and a report of an unknown version.
  test::write_text(b.dir / "short.bin", "not a report");
  Bytes v9 = read_file(b.dir / "match.bin");
  v9[0] = 9;
  write_file(b.dir / "v9.bin", v9);
  r = test::run_mkguest({"explain", out, match, (b.dir / "short.bin").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("short.bin: error: not evidence explain reads"));
  r = test::run_mkguest({"explain", out, (b.dir / "v9.bin").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("v9.bin:0x0: error: attestation report VERSION 9"));
  r = test::run_mkguest({"explain", out});
  CHECK(r.exit_code == 1);

  // A TDX quote is recognised by its header; this manifest has no TDX values.
  r = test::run_mkguest(
      {"explain", out, (test::source_dir() / "tests/vectors/tdx_quote/quote-v4.dat").string()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("(tdx-quote): MISMATCH"));
  CHECK_THAT(r.out, Catch::Contains("the manifest has no TDX measurements"));

  // A TDREPORT: 1024 bytes starting with 0x81.
  Bytes tdreport(1024, 0);
  tdreport[0] = 0x81;
  write_file(b.dir / "tdreport.bin", tdreport);
  r = test::run_mkguest({"explain", out, (b.dir / "tdreport.bin").string()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("(tdx-report): MISMATCH"));
  tdreport[0x3c0] = 1;  // reserved
  write_file(b.dir / "tdreport.bin", tdreport);
  r = test::run_mkguest({"explain", out, (b.dir / "tdreport.bin").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("tdreport.bin:0x3c0: error:"));
}

}  // namespace
}  // namespace mkguest
