// outputs.igvm in a recipe (docs/igvm.md §7): one IGVM file per vCPU count
// from the measurements.snp firmware. Its manifest digest is what `mkguest
// measure igvm --native-zero` prints for the file, what the independent
// Python model computes, and the measurements.snp launch digest of the same
// vCPUs, CPU type and features (the mirror of QEMU's launch, checked against
// sev-snp-measure by measure_test.cpp); the file round-trips through the
// reader and writer, two builds give the same bytes, and verify re-derives it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "builder/formats/igvm/reader.h"
#include "builder/formats/igvm/writer.h"
#include "tests/snp_fixtures.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

const char* kRecipe = R"(name: igvm-demo
source_date_epoch: 1700000000
kernel: kernel.bin
cmdline: [console=ttyS0, "img=${name}"]
initrd:
  files: [{src: init, dst: /init}]
outputs:
  igvm:
    vcpus: [1, 2]
measurements:
  snp:
    firmware: synth_ovmf_new_order.fd
    vcpus: [1, 2, 4]
    vcpu_types: [EPYC-Milan]
    guest_features: "0x21"
    policy: {abi_major: 1, abi_minor: 55, smt_allowed: false}
)";

nlohmann::json build(const test::TempDir& d, const std::string& out) {
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", out}, {}, d.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  return nlohmann::json::parse(test::read_text(d / out / "manifest.json"));
}

void setup(const test::TempDir& d, const std::string& recipe) {
  test::write_snp_fixtures(d.path());
  test::write_text(d / "init", "#!/bin/sh\n");
  test::write_text(d / "recipe.yaml", recipe);
}

}  // namespace

TEST_CASE("outputs.igvm writes one IGVM file per vCPU count with its digest in the manifest",
          "[igvm][snp]") {
  test::TempDir d;
  setup(d, kRecipe);
  auto first = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  REQUIRE(first.exit_code == 0);
  CHECK(first.err.find("outputs.igvm") == std::string::npos);  // in the matrix: no warning
  const auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  const auto& snp = m["measurements"]["snp"];
  REQUIRE(snp["igvm"].size() == 2);
  std::map<std::string, nlohmann::json> outputs;
  for (const auto& o : m["outputs"]) outputs[o["file"]] = o;
  const fs::path model = test::source_dir() / "tests/builder/measure/igvm/igvm_model.py";
  for (const auto& e : snp["igvm"]) {
    INFO(e.dump());
    const std::string file = e["file"];
    const int vcpus = e["vcpus"];
    CHECK(file == "snp-" + std::to_string(vcpus) + "vcpu.igvm");
    CHECK(e["platform"] == "sev-snp");
    CHECK(e["vcpu_type"] == "EPYC-Milan");
    CHECK(e["vcpu_sig"] == "0xa00f11");
    CHECK(e["guest_features"] == "0x21");
    CHECK(e["kernel_hashes"] == true);
    CHECK(e["vmsas"] == vcpus);
    // 1024 firmware pages, 31 SEV metadata pages, one VMSA per vCPU.
    CHECK(e["pages"] == 1055 + vcpus);
    // An output with its digests, role igvm-snp-<n>vcpu.
    REQUIRE(outputs.count(file) == 1);
    CHECK(outputs[file]["role"] == "igvm-snp-" + std::to_string(vcpus) + "vcpu");
    CHECK(outputs[file]["sha256"] == test::sha256_file(d / "out" / file));
    const std::string digest = e["digest"];
    REQUIRE(digest.size() == 96);

    // `mkguest measure igvm` on the file prints the same digest.
    auto r = test::run_mkguest({"measure", "igvm", "--native-zero", "out/" + file}, {}, d.path());
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == digest + "\n");
    // The independent Python model agrees.
    auto py = test::run(
        {"/usr/bin/python3", model.string(), "snp", (d / "out" / file).string(), "--native-zero"});
    REQUIRE(py.exit_code == 0);
    CHECK(nlohmann::json::parse(py.out)["digest"] == digest);
    // The mirror property: measurements.snp's digest of the same launch.
    int matched = 0;
    for (const auto& l : snp["launch_digests"]) {
      if (l["vmm"] == "QEMU" && l["vcpus"] == vcpus && l["vcpu_sig"] == e["vcpu_sig"] &&
          l["guest_features"] == e["guest_features"]) {
        CHECK(l["digest"] == digest);
        ++matched;
      }
    }
    CHECK(matched == 1);
    // The reader reads it, and the writer writes back the same bytes.
    const Bytes bytes = read_file(d / "out" / file);
    const igvm::File f = igvm::parse_igvm(bytes, file);
    CHECK(igvm::write_igvm(f.revision, f.architecture, igvm::headers_of(f)) == bytes);
    // The recipe's guest policy is in the file.
    auto j = test::run_mkguest({"measure", "igvm", "--native-zero", "--json", "out/" + file}, {},
                               d.path());
    CHECK(nlohmann::json::parse(j.out).dump().find(snp["policy"]["value"].get<std::string>()) !=
          std::string::npos);
  }
  // `show` lists each file's digest with the launch digests.
  auto show = test::run_mkguest({"show", "out"}, {}, d.path());
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("IGVM snp-2vcpu.igvm") != std::string::npos);
  CHECK(show.out.find(snp["igvm"][1]["digest"].get<std::string>()) != std::string::npos);
  // The two files differ (their VMSAs), and two builds give the same bytes.
  CHECK(snp["igvm"][0]["digest"] != snp["igvm"][1]["digest"]);
  const auto again = build(d, "out2");
  CHECK(again == m);
  for (const auto& e : snp["igvm"])
    CHECK(read_file(d / "out" / e["file"].get<std::string>()) ==
          read_file(d / "out2" / e["file"].get<std::string>()));
}

TEST_CASE("outputs.igvm without kernel hashes binds only the firmware", "[igvm][snp]") {
  test::TempDir d;
  setup(d, R"(name: igvm-nohash
kernel: kernel.bin
outputs:
  igvm: {vcpu_sig: "0x800f12", platforms: [snp]}
measurements:
  snp:
    firmware: synth_ovmf_no_hashes.fd
    vcpu_types: [EPYC-Milan, EPYC-Genoa]
    kernel_hashes: "false"
)");
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  REQUIRE(b.exit_code == 0);
  // Its signature is not measurements.snp's: the build says no export has it.
  CHECK(b.err.find("outputs.igvm: the launch digest of snp-1vcpu.igvm is not among "
                   "measurements.snp's launch digests") != std::string::npos);
  const auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  const auto& e = m["measurements"]["snp"]["igvm"][0];
  CHECK(e["kernel_hashes"] == false);
  CHECK(e["vcpu_sig"] == "0x800f12");
  CHECK(!e.contains("vcpu_type"));
  auto r = test::run_mkguest({"measure", "snp", "--mode", "snp", "--ovmf",
                              "synth_ovmf_no_hashes.fd", "--vcpus", "1", "--vcpu-sig", "0x800f12"},
                             {}, d.path());
  CHECK(r.out == e["digest"].get<std::string>() + "\n");
}

TEST_CASE("a recipe error in outputs.igvm writes nothing", "[igvm][recipe]") {
  test::TempDir d;
  setup(d,
        "name: t\nkernel: kernel.bin\noutputs:\n  igvm:\n    platforms: [tdx]\n"
        "measurements:\n  snp:\n    firmware: synth_ovmf_2m.fd\n    vcpu_types: [EPYC]\n");
  auto r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("recipe.yaml:5:17: error: outputs.igvm: platform tdx is not supported", 0) ==
        0);
  CHECK(!fs::exists(d / "out"));
}

TEST_CASE("verify re-derives every IGVM file and its digest", "[igvm][verify]") {
  test::TempDir d;
  setup(d, kRecipe);
  build(d, "out");
  // Without the firmware the files are still measured again.
  auto alone = test::run_mkguest({"verify", "out"}, {}, d.path());
  CHECK(alone.exit_code == 0);
  CHECK(alone.out.find("checks: outputs, igvm)") != std::string::npos);
  auto ok = test::run_mkguest({"verify", "out", "--inputs", "."}, {}, d.path());
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("igvm") != std::string::npos);
  auto rebuild = test::run_mkguest({"verify", "out", "--rebuild", "recipe.yaml"}, {}, d.path());
  INFO(rebuild.out << rebuild.err);
  CHECK(rebuild.exit_code == 0);

  // An edited digest is caught.
  auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  std::string& dg = m["measurements"]["snp"]["igvm"][1]["digest"].get_ref<std::string&>();
  dg[0] = dg[0] == '0' ? '1' : '0';
  test::write_text(d / "edited.json", m.dump(2));
  auto bad = test::run_mkguest({"verify", "out", "--manifest", "edited.json", "--inputs", "."}, {},
                               d.path());
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("DIFFERENT igvm: igvm[1]: differs: manifest " + dg) != std::string::npos);
  // An entry whose vCPU signature was edited no longer gives the file.
  auto m2 = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  m2["measurements"]["snp"]["igvm"][0]["vcpu_sig"] = "0xa00f10";
  test::write_text(d / "sig.json", m2.dump(2));
  auto sig =
      test::run_mkguest({"verify", "out", "--manifest", "sig.json", "--inputs", "."}, {}, d.path());
  CHECK(sig.exit_code == 1);
  CHECK(sig.out.find("DIFFERENT igvm: igvm[0]: the file 'snp-1vcpu.igvm' is not the IGVM file") !=
        std::string::npos);
}
