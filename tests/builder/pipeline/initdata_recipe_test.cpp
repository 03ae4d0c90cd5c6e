// The recipe key `initdata`: the build writes the document, Kata's annotation
// and the bindings, and puts HOST_DATA into measurements.snp. Values are
// checked against tests/builder/measure/initdata_ref.py (the spec-text
// script) run on the written initdata.toml, the annotation round-trips
// through Python's gzip, and the rendering of an inline mapping reads back
// with tomllib. A recipe without initdata gets none of these keys (the golden
// manifests of the examples guard every other byte).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/snp_fixtures.h"

using namespace mkguest;

namespace {
const auto kRef = test::source_dir() / "tests/builder/measure/initdata_ref.py";

nlohmann::json reference(const std::filesystem::path& doc) {
  auto r = test::run({"/usr/bin/python3", kRef.string(), "digest", doc.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}
}  // namespace

TEST_CASE("recipe initdata from a file binds HOST_DATA into measurements.snp", "[initdata][snp]") {
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  const auto src = test::source_dir() / "tests/data/initdata/coco-sha384.toml";
  test::write_text(d / "pod.toml", test::read_text(src));
  test::write_text(d / "recipe.yaml", R"(name: initdata-demo
kernel: kernel.bin
cmdline: console=ttyS0
initdata: pod.toml
exports: {trustee: true}
measurements:
  snp:
    firmware: synth_ovmf_new_order.fd
    vcpus: [1]
    vcpu_types: [EPYC-Milan]
)");
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  CHECK(test::read_text(d / "out/initdata.toml") == test::read_text(src));
  const auto want = reference(d / "out/initdata.toml");
  const auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  const auto& i = m["initdata"];
  CHECK(i["algorithm"] == "sha384");
  CHECK(i["digest"] == want["digest"]);
  CHECK(i["snp_host_data"] == want["snp"]);
  CHECK(i["tdx_mrconfigid"] == want["tdx"]);
  CHECK(!i.contains("tpm_pcr8"));
  CHECK(m["measurements"]["snp"]["host_data"] == want["snp"]);
  auto u = test::run({"/usr/bin/python3", kRef.string(), "unannotate",
                      test::read_text(d / "out/initdata.annotation")});
  CHECK(u.exit_code == 0);
  CHECK(u.out == test::read_text(src));
  // `mkguest verify` derives them again from initdata.toml, and notices a
  // manifest value that is not the document's.
  auto vf = test::run_mkguest({"verify", "out"}, {}, d.path());
  INFO(vf.out);
  CHECK(vf.exit_code == 0);
  CHECK(vf.out.find("initdata") != std::string::npos);
  std::string mt = test::read_text(d / "out/manifest.json");
  const std::string hd = want["snp"].get<std::string>();
  for (auto p = mt.find(hd); p != std::string::npos; p = mt.find(hd, p + 1))
    mt[p] = hd[0] == '0' ? '1' : '0';
  std::filesystem::create_directories(d / "tampered");
  for (const char* f : {"initdata.toml", "initdata.annotation", "kernel", "cmdline"})
    std::filesystem::copy_file(d / "out" / f, d / "tampered" / f);
  test::write_text(d / "tampered/manifest.json", mt);
  auto vt = test::run_mkguest({"verify", "tampered"}, {}, d.path());
  CHECK(vt.exit_code == 1);
  CHECK(vt.out.find("DIFFERENT initdata: snp_host_data") != std::string::npos);
  // The Trustee export publishes them under namespaced ids, as lists
  // (decoded with coreutils base64, not our decoder).
  const auto msg = nlohmann::json::parse(test::read_text(d / "out/rvps-message.json"));
  test::write_text(d / "payload.b64", msg["payload"].get<std::string>());
  auto p = test::run({"base64", "-d", (d / "payload.b64").string()});
  REQUIRE(p.exit_code == 0);
  const auto v = nlohmann::json::parse(p.out);
  const std::string id = "rvps:///mkguest.local/initdata-demo/";
  CHECK(v[id + "snp/init_data:0"] == nlohmann::json::array({want["snp"]}));
  CHECK(v[id + "tdx/init_data:0"] == nlohmann::json::array({want["tdx"]}));
  CHECK(!v.contains(id + "tpm/pcr8:0"));  // sha384: no vTPM binding
  // An error in the file stops the build at the TOML's line and column.
  test::write_text(d / "pod.toml", "version = \"0.1.0\"\nalgorithm = \"md5\"\n[data]\n");
  auto e = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out2"}, {}, d.path());
  CHECK(e.exit_code == 2);
  CHECK(e.err.find("pod.toml:2:13: error: ") != std::string::npos);
}

TEST_CASE("recipe initdata inline renders a TOML document tomllib reads back", "[initdata]") {
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  test::write_text(d / "recipe.yaml", R"(name: initdata-inline
kernel: kernel.bin
initdata:
  algorithm: sha256
  data:
    aa.toml: |
      [token_configs.kbs]
      url = "http://kbs.example:8080"
    "policy.rego": "package agent_policy\n"
)");
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  const auto want = reference(d / "out/initdata.toml");
  const auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  CHECK(m["initdata"]["digest"] == want["digest"]);
  CHECK(m["initdata"]["tpm_pcr8"] == want["pcr8"]);
  CHECK(!m["measurements"].contains("snp"));
  auto t = test::run({"/usr/bin/python3", "-c",
                      "import json,sys,tomllib;"
                      "print(json.dumps(tomllib.load(open(sys.argv[1],'rb'))['data']))",
                      (d / "out/initdata.toml").string()});
  REQUIRE(t.exit_code == 0);
  CHECK(nlohmann::json::parse(t.out) ==
        nlohmann::json({{"aa.toml", "[token_configs.kbs]\nurl = \"http://kbs.example:8080\"\n"},
                        {"policy.rego", "package agent_policy\n"}}));
  // The same recipe builds the same bytes.
  REQUIRE(
      test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "again"}, {}, d.path()).exit_code ==
      0);
  CHECK(test::read_text(d / "again/initdata.annotation") ==
        test::read_text(d / "out/initdata.annotation"));
  // Recipe errors name the recipe's place.
  test::write_text(d / "bad.yaml",
                   "name: t\nkernel: kernel.bin\ninitdata:\n  algorithm: sha1\n  data: {}\n");
  auto e = test::run_mkguest({"build", "-q", "bad.yaml", "-o", "o"}, {}, d.path());
  CHECK(e.exit_code == 2);
  CHECK(e.err.find("bad.yaml:4:14: error: ") != std::string::npos);
}
