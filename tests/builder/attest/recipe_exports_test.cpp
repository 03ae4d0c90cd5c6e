// The recipe's `exports` section: the build writes the asked-for attestation
// files beside its outputs, deterministically (verify --rebuild compares them
// too), and bad settings are reported at their line and column.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/snp_fixtures.h"
#include "tests/test_util.h"

namespace mkguest::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path recipe_with(const TempDir& t, const std::string& exports) {
  fs::copy(source_dir() / "examples/minimal", t / "r", fs::copy_options::recursive);
  write_text(t / "r/recipe.yaml", read_text(t / "r/recipe.yaml") + exports);
  return t / "r/recipe.yaml";
}

TEST_CASE("recipe exports: provenance and SBOM are written and rebuilt", "[provenance][sbom]") {
  TempDir t;
  fs::path r = recipe_with(t, "exports:\n  provenance: true\n  sbom: true\n");
  auto b = run_mkguest({"build", "-q", r.string(), "-o", (t / "out").string()});
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  json prov = json::parse(read_text(t / "out/provenance.intoto.json"));
  CHECK(prov["predicateType"] == "https://slsa.dev/provenance/v1");
  CHECK(prov["predicate"]["runDetails"]["byproducts"][0]["digest"]["sha256"] ==
        sha256_file(t / "out/manifest.json"));
  json sbom = json::parse(read_text(t / "out/sbom.spdx.json"));
  CHECK(sbom["spdxVersion"] == "SPDX-2.3");
  // No measurements in this recipe: no reference-values statement.
  CHECK(!fs::exists(t / "out/reference-values.intoto.json"));
  // The exports are not outputs of the manifest, and are reproducible.
  json m = json::parse(read_text(t / "out/manifest.json"));
  for (const auto& o : m["outputs"]) CHECK(o["file"] != "sbom.spdx.json");
  auto v = run_mkguest({"verify", (t / "out").string(), "--rebuild", r.string()});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  write_text(t / "out/sbom.spdx.json", read_text(t / "out/sbom.spdx.json") + " ");
  v = run_mkguest({"verify", (t / "out").string(), "--rebuild", r.string()});
  CHECK(v.exit_code == 1);
  CHECK(v.out.find("DIFFERENT rebuild: sbom.spdx.json") != std::string::npos);
}

TEST_CASE("recipe exports: corim.cbor is written, read by cbor2 and rebuilt", "[corim]") {
  TempDir t;
  write_snp_fixtures(t.path());
  write_text(t / "init", "#!/bin/sh\n");
  write_text(t / "recipe.yaml", R"(name: corim-demo
version: "2.0"
source_date_epoch: 1700000000
kernel: kernel.bin
initrd:
  files: [{src: init, dst: /init}]
measurements:
  snp: {firmware: synth_ovmf_new_order.fd, vcpus: [1, 2], vcpu_types: [EPYC-Genoa]}
exports:
  corim: true
)");
  auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  if (run({"/usr/bin/python3", "-c", "import cbor2, cryptography"}).exit_code != 0) {
    skip_or_fail("python3-cbor2 missing: run scripts/install-deps --test");
    return;
  }
  auto c = run({"/usr/bin/python3", (source_dir() / "tests/builder/attest/corim_check.py").string(),
                (t / "out/manifest.json").string(), (t / "out/corim.cbor").string()});
  INFO(c.out << c.err);
  CHECK(c.out == "OK\n");
  auto v = run_mkguest({"verify", "out", "--rebuild", "recipe.yaml"}, {}, t.path());
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  write_text(t / "out/corim.cbor", read_text(t / "out/corim.cbor") + "x");
  v = run_mkguest({"verify", "out", "--rebuild", "recipe.yaml"}, {}, t.path());
  CHECK(v.exit_code == 1);
  CHECK(v.out.find("DIFFERENT rebuild: corim.cbor") != std::string::npos);
}

TEST_CASE("recipe exports: errors", "[trustee]") {
  TempDir t;
  SECTION("a bad namespace") {
    fs::path r = recipe_with(t, "exports:\n  trustee:\n    namespace: /abs\n");
    auto b = run_mkguest({"build", "-q", r.string(), "-o", (t / "out").string()});
    CHECK(b.exit_code == 2);
    CHECK(b.err.find("recipe.yaml:27:16: error: 'namespace' must be") != std::string::npos);
  }
  SECTION("an unknown key") {
    fs::path r = recipe_with(t, "exports:\n  trustees: true\n");
    auto b = run_mkguest({"build", "-q", r.string(), "-o", (t / "out").string()});
    CHECK(b.exit_code == 2);
    CHECK(b.err.find("trustees") != std::string::npos);
  }
  SECTION("Trustee values without measurements: the build fails, nothing is committed") {
    fs::path r = recipe_with(t, "exports:\n  trustee: true\n");
    auto b = run_mkguest({"build", "-q", r.string(), "-o", (t / "out").string()});
    CHECK(b.exit_code == 2);
    CHECK(b.err.find("no measurements to export") != std::string::npos);
    CHECK(!fs::exists(t / "out"));
  }
}

}  // namespace
}  // namespace mkguest::test
