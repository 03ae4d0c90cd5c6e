// `mkguest measure igvm`: the printed digest is the Python model's, JSON
// carries the ranges, policy and ID block, a mismatching ID block exits 1
// unless --ignore-idblock, a malformed file exits 2 naming the offset (and so
// does `inspect`).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "tests/builder/formats/igvm/igvm_shapes.h"

using namespace mkguest;
using nlohmann::json;

TEST_CASE("measure igvm prints the digest, JSON and the ID block check", "[igvm][cli]") {
  const auto& s = test::igvm_shapes();
  const std::string snp = (s.path / "snp-basic.igvm").string();
  const std::string model =
      (test::source_dir() / "tests/builder/measure/igvm/igvm_model.py").string();
  const auto want = json::parse(test::run({"/usr/bin/python3", model, "snp", snp}).out);
  // snp-basic's ID block carries a made-up LD: exit 1 after the digest.
  auto r = test::run_mkguest({"measure", "igvm", snp});
  CHECK(r.exit_code == 1);
  CHECK(r.out == want["digest"].get<std::string>() + "\n");
  CHECK(r.err.find("differs from the computed one") != std::string::npos);
  r = test::run_mkguest({"measure", "igvm", snp, "--ignore-idblock", "--json"});
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);
  CHECK(j["launch_digest"] == want["digest"]);
  CHECK(j["platform"] == "sev-snp");
  CHECK(j["guest_policy"] == "0x30000");
  CHECK(j["id_block_matches"] == false);
  CHECK(j["ranges"][0]["type"] == "normal");

  const std::string tdx = (s.path / "tdx-basic.igvm").string();
  const auto want_tdx = json::parse(test::run({"/usr/bin/python3", model, "tdx", tdx}).out);
  r = test::run_mkguest({"measure", "igvm", tdx, "--platform", "tdx"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == want_tdx["digest"].get<std::string>() + "\n");
  // No SNP platform in a TDX-only file; TDX takes no SNP options.
  r = test::run_mkguest({"measure", "igvm", tdx});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("declares no sev-snp platform") != std::string::npos);
  CHECK(test::run_mkguest({"measure", "igvm", tdx, "-p", "tdx", "--native-zero"}).exit_code == 1);
  CHECK(test::run_mkguest({"measure", "igvm", tdx, "-p", "vbs"}).exit_code == 1);
}

TEST_CASE("measure igvm and inspect reject a malformed file with the offset", "[igvm][cli]") {
  test::TempDir d;
  Bytes b = read_file(test::igvm_shapes().path / "multi.igvm");
  b[20] ^= 1;  // the checksum
  test::write_text(d / "bad.igvm", std::string(b.begin(), b.end()));
  for (const auto& cmd : std::vector<std::vector<std::string>>{{"measure", "igvm", "bad.igvm"},
                                                               {"inspect", "bad.igvm"}}) {
    const auto r = test::run_mkguest(cmd, {}, d.path());
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("bad.igvm:0x14: error: checksum") != std::string::npos);
    CHECK(r.out.empty());
  }
}
