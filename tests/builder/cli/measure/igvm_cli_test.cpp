// `mkguest measure igvm`: the printed digest is the Python model's, JSON
// carries the ranges, policy and ID block, a mismatching ID block exits 1
// unless --ignore-idblock, a malformed file exits 2 naming the offset (and so
// does `inspect`).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "builder/formats/igvm/snp_launch.h"
#include "firmware/sev_metadata.h"
#include "firmware/snp_measure.h"
#include "tests/builder/formats/igvm/igvm_shapes.h"
#include "tests/snp_fixtures.h"

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

TEST_CASE("measure igvm --native-zero of the SNP launch mirror prints measure snp's digest",
          "[igvm][cli]") {
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  const Bytes ovmf = read_file(d / "synth_ovmf_4m.fd");
  const SevFirmware fw = parse_sev_firmware(ByteReader(ovmf, "synth_ovmf_4m.fd"));
  SnpInputs in;
  in.vcpus = 2;
  REQUIRE(snp_vcpu_signature("EPYC-Milan", &in.vcpu_sig));
  in.hashes = sev_hashes(read_file(d / "kernel.bin"), read_file(d / "initrd.bin"), "quiet");
  const Bytes b = igvm::snp_launch_igvm(ovmf, fw, in, 0x30000, "synth_ovmf_4m.fd");
  test::write_text(d / "guest.igvm", std::string(b.begin(), b.end()));
  const auto want = test::run_mkguest(
      {"measure", "snp", "--mode", "snp", "--vcpus", "2", "--vcpu-type", "EPYC-Milan", "--ovmf",
       "synth_ovmf_4m.fd", "--kernel", "kernel.bin", "--initrd", "initrd.bin", "--append", "quiet"},
      {}, d.path());
  REQUIRE(want.exit_code == 0);
  auto r = test::run_mkguest({"measure", "igvm", "guest.igvm", "--native-zero"}, {}, d.path());
  CHECK(r.exit_code == 0);
  CHECK(r.out == want.out);
  // Without --native-zero the zero-filled sections are NORMAL pages: another digest.
  r = test::run_mkguest({"measure", "igvm", "guest.igvm"}, {}, d.path());
  CHECK(r.exit_code == 0);
  CHECK(r.out != want.out);
  // --check-kvm refuses the mirror: sev-snp-measure's VMSA has CR0 0x10,
  // where igvmmeasure expects what KVM sets for an IGVM VMSA (0x30 or 0x31).
  r = test::run_mkguest({"measure", "igvm", "guest.igvm", "--check-kvm"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--check-kvm: VMSA CR0 0x10") != std::string::npos);
  CHECK(r.out.empty());
  r = test::run_mkguest({"measure", "igvm", "guest.igvm", "-n", "-v"}, {}, d.path());
  CHECK(r.out.find("gpa 0xffc00000 len 0x400000 (normal page)") != std::string::npos);
  CHECK(r.out.find("(vmsa page)") != std::string::npos);
}
