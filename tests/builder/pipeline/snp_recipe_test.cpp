// measurements.snp in a recipe: the manifest holds the whole matrix, each
// digest equal to what `mkguest measure snp` (checked against sev-snp-measure)
// prints for the built kernel, initrd and cmdline.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/snp_fixtures.h"

using namespace mkguest;

TEST_CASE("measurements.snp writes the launch-digest matrix into the manifest", "[snp]") {
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  test::write_text(d / "init", "#!/bin/sh\n");
  test::write_text(d / "recipe.yaml", R"(name: snp-demo
source_date_epoch: 1700000000
kernel: kernel.bin
cmdline: [console=ttyS0, "img=${name}"]
initrd:
  files: [{src: init, dst: /init}]
measurements:
  snp:
    firmware: synth_ovmf_new_order.fd
    vcpus: [1, 4]
    vcpu_types: [EPYC-Milan, EPYC-Genoa]
    vmm: [QEMU, ec2]
    guest_features: ["0x1", "0x21"]
    policy: {abi_major: 1, abi_minor: 55, smt_allowed: false, single_socket: true}
)");
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  REQUIRE(b.exit_code == 0);
  auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  const auto& snp = m["measurements"]["snp"];
  // QEMU: 2 types x 2 vcpu counts x 2 features; ec2: 2 x 2 (no signature).
  REQUIRE(snp["launch_digests"].size() == 12);
  // abi_minor 0x37, abi_major 1 << 8, reserved bit 17, single socket bit 20; SMT (16) off.
  CHECK(snp["policy"]["value"] == "0x120137");
  CHECK(snp["policy"]["smt_allowed"] == false);
  CHECK(snp["ovmf_hash"] == test::run_mkguest({"measure", "snp", "--mode", "snp:ovmf-hash",
                                               "--ovmf", "synth_ovmf_new_order.fd"},
                                              {}, d.path())
                                .out.substr(0, 96));
  std::string cmdline = test::read_text(d / "out/cmdline");
  for (const auto& e : snp["launch_digests"]) {
    std::vector<std::string> args = {"measure",          "snp",
                                     "--mode",           "snp",
                                     "--ovmf",           "synth_ovmf_new_order.fd",
                                     "--vcpus",          std::to_string(e["vcpus"].get<int>()),
                                     "--vmm-type",       e["vmm"].get<std::string>(),
                                     "--guest-features", e["guest_features"].get<std::string>(),
                                     "--kernel",         "out/kernel",
                                     "--initrd",         "out/initrd",
                                     "--append",         cmdline};
    if (e.contains("vcpu_type")) {
      args.push_back("--vcpu-type");
      args.push_back(e["vcpu_type"]);
    }
    auto r = test::run_mkguest(args, {}, d.path());
    INFO(e.dump());
    CHECK(r.out == e["digest"].get<std::string>() + "\n");
    CHECK(e["kernel_hashes"] == true);
  }
  // The hashes table binds the kernel, initrd and cmdline; there is no rootfs.
  CHECK(snp["covers"] == nlohmann::json({{"firmware", true},
                                         {"kernel", true},
                                         {"initrd", true},
                                         {"cmdline", true},
                                         {"rootfs", false}}));
  bool firmware_input = false;
  for (const auto& in : m["inputs"]) firmware_input |= in["role"] == "firmware";
  CHECK(firmware_input);
}

TEST_CASE("measurements.snp errors name the place", "[snp]") {
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  test::write_text(d / "recipe.yaml",
                   "name: t\nkernel: kernel.bin\nmeasurements:\n  snp:\n"
                   "    firmware: synth_ovmf_2m.fd\n    vcpu_types: [EPYC-Milano]\n");
  auto r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("recipe.yaml:6:18: error: 'vcpu_types' must be one of EPYC, ", 0) == 0);
  CHECK(r.err.find("not 'EPYC-Milano' (did you mean 'EPYC-Milan'?)") != std::string::npos);
  test::write_text(d / "recipe.yaml",
                   "name: t\nkernel: kernel.bin\nmeasurements:\n  snp:\n"
                   "    firmware: synth_ovmf_2m.fd\n");
  r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("recipe.yaml:5:5: error: measurements.snp with vmm QEMU needs 'vcpu_types' "
                    "or 'vcpu_sigs'",
                    0) == 0);
}

TEST_CASE("verify re-derives every SNP launch digest from the outputs and the firmware",
          "[snp][verify]") {
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  test::write_text(d / "init", "#!/bin/sh\n");
  test::write_text(d / "recipe.yaml", R"(name: snp-verify
kernel: kernel.bin
cmdline: [console=ttyS0]
initrd:
  files: [{src: init, dst: /init}]
measurements:
  snp:
    firmware: synth_ovmf_new_order.fd
    vcpus: [1, 2]
    vcpu_types: [EPYC-Milan]
    vmm: [QEMU, gce]
)");
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path()).exit_code ==
          0);
  // Without the firmware the check cannot run, and says why.
  auto skipped = test::run_mkguest({"verify", "out"}, {}, d.path());
  CHECK(skipped.exit_code == 0);
  CHECK(skipped.out.find("checks: outputs)") != std::string::npos);
  CHECK(skipped.err.find("snp not re-derived: its firmware input was not found") !=
        std::string::npos);
  auto ok = test::run_mkguest({"verify", "out", "--inputs", "."}, {}, d.path());
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("checks: outputs, snp)") != std::string::npos);

  // A manifest whose digest was edited is caught, entry by entry.
  auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  std::string& dg = m["measurements"]["snp"]["launch_digests"][2]["digest"].get_ref<std::string&>();
  dg[0] = dg[0] == '0' ? '1' : '0';
  test::write_text(d / "edited.json", m.dump(2));
  auto bad = test::run_mkguest({"verify", "out", "--manifest", "edited.json", "--inputs", "."}, {},
                               d.path());
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("DIFFERENT snp: launch_digests[2]: differs: manifest " + dg) !=
        std::string::npos);
  // A policy word that is not the word of its fields (here: DEBUG set in
  // the word only) is named.
  auto mp = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  CHECK(mp["measurements"]["snp"]["policy"]["value"] == "0x30000");
  mp["measurements"]["snp"]["policy"]["value"] = "0xb0000";
  test::write_text(d / "policy.json", mp.dump(2));
  auto pol = test::run_mkguest({"verify", "out", "--manifest", "policy.json", "--inputs", "."}, {},
                               d.path());
  CHECK(pol.exit_code == 1);
  CHECK(pol.out.find("DIFFERENT snp: policy.value: differs: manifest 0xb0000, derived from its "
                     "fields 0x30000") != std::string::npos);
  // So is another firmware under the recorded name.
  test::TempDir other;
  test::write_snp_fixtures(other.path());
  std::filesystem::rename(other / "synth_ovmf_4m.fd", other / "synth_ovmf_new_order.fd");
  auto wrong =
      test::run_mkguest({"verify", "out", "--inputs", other.path().string()}, {}, d.path());
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.out.find("the firmware is not the one the manifest names") != std::string::npos);
}

TEST_CASE("measurements.snp on a firmware without kernel hashes needs kernel_hashes false",
          "[snp]") {
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  test::write_text(d / "init", "#!/bin/sh\n");
  const std::string recipe = R"(name: snp-unbound
version: "1"
kernel: kernel.bin
cmdline: [console=ttyS0]
initrd:
  files: [{src: init, dst: /init}]
measurements:
  snp:
    firmware: synth_ovmf_no_hashes.fd
    vcpu_types: [EPYC-Milan]
)";
  test::write_text(d / "recipe.yaml", recipe);
  // Refused: the digest would cover the firmware and the VMSAs only.
  auto r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("recipe.yaml:9:5: error: measurements.snp: the firmware "
                    "synth_ovmf_no_hashes.fd has no SNP_KERNEL_HASHES section",
                    0) == 0);
  CHECK(!std::filesystem::exists(d / "out"));

  // Accepted when the recipe says so, with a warning and the coverage recorded.
  test::write_text(d / "recipe.yaml", recipe + "    kernel_hashes: false\n");
  r = test::run_mkguest({"build", "--json", "recipe.yaml", "-o", "out"}, {}, d.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string warning =
      "measurements.snp: the value does not bind the kernel, initrd, cmdline";
  CHECK(r.err.find("mkguest: warning: " + warning) != std::string::npos);
  const auto summary = nlohmann::json::parse(r.out);
  REQUIRE(summary["warnings"].size() == 1);
  CHECK(summary["warnings"][0].get<std::string>().rfind(warning, 0) == 0);
  auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  const auto& snp = m["measurements"]["snp"];
  CHECK(snp["covers"] == nlohmann::json({{"firmware", true},
                                         {"kernel", false},
                                         {"initrd", false},
                                         {"cmdline", false},
                                         {"rootfs", false}}));
  CHECK(snp["launch_digests"][0]["kernel_hashes"] == false);

  // verify accepts the consistent record and rejects a covers that claims the kernel.
  auto ok = test::run_mkguest({"verify", "out", "--inputs", "."}, {}, d.path());
  INFO(ok.out);
  CHECK(ok.exit_code == 0);
  m["measurements"]["snp"]["covers"]["kernel"] = true;
  test::write_text(d / "edited.json", m.dump(2));
  auto bad = test::run_mkguest({"verify", "out", "--manifest", "edited.json", "--inputs", "."}, {},
                               d.path());
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("DIFFERENT snp: covers.kernel: differs: manifest true, derived false") !=
        std::string::npos);

  // Trustee would accept any kernel with that value: not exported unless asked.
  auto t = test::run_mkguest({"export", "trustee", "out"}, {}, d.path());
  CHECK(t.exit_code == 2);
  CHECK(t.err.find("measurements.snp: the launch digest binds no kernel") != std::string::npos);
  t = test::run_mkguest({"export", "trustee", "out", "--allow-unbound-kernel"}, {}, d.path());
  CHECK(t.exit_code == 0);
}
