// Provenance: the in-toto Statement v1 / SLSA provenance v1 and the
// reference-values statement carry every output, input and measurement of the
// manifest; they are deterministic, and sign/verify as DSSE in-toto envelopes.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/attest_fixture.h"
#include "tests/test_util.h"

namespace mkguest::test {
namespace {

using nlohmann::json;

TEST_CASE("provenance: SLSA v1 statement from a manifest", "[provenance]") {
  TempDir t;
  json m = make_outdir(t / "out");
  auto r = run_mkguest({"export", "provenance", (t / "out").string(), "-o",
                        (t / "prov.intoto.json").string(), "--builder-id",
                        "https://ci.example.org/release"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json s = json::parse(read_text(t / "prov.intoto.json"));
  CHECK(s["_type"] == "https://in-toto.io/Statement/v1");
  CHECK(s["predicateType"] == "https://slsa.dev/provenance/v1");
  // Subjects: every output with both digests.
  REQUIRE(s["subject"].size() == m["outputs"].size());
  for (std::size_t i = 0; i < m["outputs"].size(); ++i) {
    CHECK(s["subject"][i]["name"] == m["outputs"][i]["file"]);
    CHECK(s["subject"][i]["digest"]["sha256"] == m["outputs"][i]["sha256"]);
    CHECK(s["subject"][i]["digest"]["sha384"] == m["outputs"][i]["sha384"]);
    CHECK(s["subject"][i]["digest"]["sha256"] ==
          sha256_file(t / "out" / m["outputs"][i]["file"].get<std::string>()));
  }
  const json& bd = s["predicate"]["buildDefinition"];
  CHECK(bd["buildType"] == "https://mkguest.dev/buildtypes/recipe/v1");
  CHECK(bd["externalParameters"]["recipe"]["path"] == "recipe.yaml");
  CHECK(bd["externalParameters"]["recipe"]["digest"]["sha256"] == m["recipe"]["sha256"]);
  CHECK(bd["externalParameters"]["platforms"] == json::array({"se", "snp", "tdx", "tpm"}));
  // Every input, then the tool.
  const json& deps = bd["resolvedDependencies"];
  REQUIRE(deps.size() == m["inputs"].size() + 1);
  for (std::size_t i = 0; i < m["inputs"].size(); ++i) {
    CHECK(deps[i]["name"] == m["inputs"][i]["path"]);
    CHECK(deps[i]["digest"]["sha256"] == m["inputs"][i]["sha256"]);
    CHECK(deps[i]["annotations"]["role"] == m["inputs"][i]["role"]);
  }
  CHECK(deps.back()["uri"] == "pkg:generic/mkguest@0.1.0");
  CHECK(s["predicate"]["runDetails"]["builder"]["id"] == "https://ci.example.org/release");
  CHECK(s["predicate"]["runDetails"]["byproducts"][0]["digest"]["sha256"] ==
        sha256_file(t / "out/manifest.json"));
  // Deterministic: a second export is the same bytes.
  auto again = run_mkguest({"export", "provenance", (t / "out").string(), "--builder-id",
                            "https://ci.example.org/release"});
  CHECK(again.out == read_text(t / "prov.intoto.json"));
}

TEST_CASE("provenance: the reference-values statement and its signature", "[provenance][dsse]") {
  TempDir t;
  json m = make_outdir(t / "out");
  auto r = run_mkguest({"export", "provenance", "--reference-values", (t / "out").string(), "-o",
                        (t / "rv.intoto.json").string()});
  REQUIRE(r.exit_code == 0);
  json s = json::parse(read_text(t / "rv.intoto.json"));
  CHECK(s["predicateType"] == "https://mkguest.dev/reference-values/v1");
  CHECK(s["predicate"]["measurements"] == m["measurements"]);
  CHECK(s["predicate"]["cmdline"] == m["cmdline"]);
  CHECK(s["predicate"]["manifest"]["digest"]["sha256"] == sha256_file(t / "out/manifest.json"));
  CHECK(s["subject"].size() == m["outputs"].size());

  REQUIRE(run({"openssl", "genpkey", "-algorithm", "ED25519", "-out", (t / "k.pem").string()})
              .exit_code == 0);
  std::filesystem::permissions(t / "k.pem", std::filesystem::perms(0600));
  REQUIRE(run_mkguest({"sign", (t / "rv.intoto.json").string(), "--key", (t / "k.pem").string()})
              .exit_code == 0);
  json env = json::parse(read_text(t / "rv.intoto.json.dsse.json"));
  CHECK(env["payloadType"] == "application/vnd.in-toto+json");
  REQUIRE(run({"openssl", "pkey", "-in", (t / "k.pem").string(), "-pubout", "-out",
               (t / "pub.pem").string()})
              .exit_code == 0);
  auto v = run_mkguest({"verify-signature", (t / "rv.intoto.json.dsse.json").string(), "--key",
                        (t / "pub.pem").string(), "--payload-out", (t / "payload.json").string()});
  CHECK(v.exit_code == 0);
  CHECK(read_text(t / "payload.json") == read_text(t / "rv.intoto.json"));
}

TEST_CASE("provenance: an output without digests is an input error", "[provenance]") {
  TempDir t;
  json m = make_outdir(t / "out");
  m["outputs"][1].erase("sha256");
  m["outputs"][1].erase("sha384");
  write_text(t / "out/manifest.json", m.dump(2));
  auto r = run_mkguest({"export", "provenance", (t / "out").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("outputs[1] has no sha256") != std::string::npos);
}

}  // namespace
}  // namespace mkguest::test
