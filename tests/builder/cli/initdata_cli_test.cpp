// Smoke test of `mkguest measure initdata`: the JSON output carries the values
// of tests/builder/measure/initdata_ref.py (the spec-text script), --platform
// prints one value, and a vTPM binding of a sha384 document is refused at the
// algorithm's line and column (exit 2).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/test_util.h"

using namespace mkguest;

TEST_CASE("measure initdata prints the spec-text script's values", "[initdata][cli]") {
  const auto dir = test::source_dir() / "tests/data/initdata";
  const auto ref = test::source_dir() / "tests/builder/measure/initdata_ref.py";
  const std::string doc = (dir / "unicode-sha256.toml").string();
  auto r = test::run({"/usr/bin/python3", ref.string(), "digest", doc});
  REQUIRE(r.exit_code == 0);
  const auto want = nlohmann::json::parse(r.out);

  auto j = test::run_mkguest({"measure", "initdata", doc, "--json"});
  INFO(j.err);
  REQUIRE(j.exit_code == 0);
  const auto got = nlohmann::json::parse(j.out);
  CHECK(got["digest"] == want["digest"]);
  CHECK(got["snp"]["host_data"] == want["snp"]);
  CHECK(got["tdx"]["mrconfigid"] == want["tdx"]);
  CHECK(got["tpm"]["value"] == want["pcr8"]);
  CHECK(got["annotation"]["name"] == "io.katacontainers.config.hypervisor.cc_init_data");
  auto u = test::run({"/usr/bin/python3", ref.string(), "unannotate",
                      got["annotation"]["value"].get<std::string>()});
  CHECK(u.out == test::read_text(doc));

  auto t = test::run_mkguest({"measure", "initdata", doc, "--platform", "tdx"});
  CHECK(t.exit_code == 0);
  CHECK(t.out == want["tdx"].get<std::string>() + "\n");

  const std::string s384 = (dir / "coco-sha384.toml").string();
  auto bad = test::run_mkguest({"measure", "initdata", s384, "--platform", "tpm"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.rfind(s384 + ":1:13: error: ", 0) == 0);
  CHECK(test::run_mkguest({"measure", "initdata", s384, "--platform", "sev"}).exit_code == 1);
}
