// `explain` for SEV-SNP reports. The reports are built by the independent
// Python model (tests/builder/formats/evidence/snp_report_model.py) around
// MEASUREMENTs the reference tool computed (tests/vectors/snp.txt:
// sev-snp-measure 0.0.13 over the synthetic firmware of tests/snp_fixtures.h),
// so each case holds mkguest's search against the reference tool's value for
// one changed parameter.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "base/encoding.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/formats/evidence/snp_report.h"
#include "builder/verify/explain.h"
#include "builder/verify/explain_snp_search.h"
#include "tests/explain_fixture.h"
#include "tests/test_util.h"

namespace mkguest {
namespace {

namespace fs = std::filesystem;
using attest::ExplainStatus;
using test::Build;
using test::kOvmf;
using test::milan;
using test::snp_vector;

const attest::ExplainCheck& check(const attest::ExplainResult& r, const std::string& name) {
  for (const auto& c : r.checks)
    if (c.name == name) return c;
  FAIL("no check " << name);
  return r.checks.front();
}

std::string why(const attest::ExplainCheck& c) {
  std::string s;
  for (const auto& w : c.why) s += w + "\n";
  return s;
}

TEST_CASE("explain snp: a report of the recorded launch matches", "[explain]") {
  Build b;
  const auto r = b.explain(b.report(milan(4)));
  CHECK(r.matches());
  CHECK(check(r, "measurement").status == ExplainStatus::kMatch);
  CHECK_THAT(why(check(r, "measurement")), Catch::Contains("launch_digests[1]"));
  CHECK(check(r, "host_data").status == ExplainStatus::kMatch);
  CHECK(check(r, "policy").status == ExplainStatus::kMatch);
  CHECK(check(r, "signature").status == ExplainStatus::kNotChecked);
  CHECK_THAT(why(check(r, "signature")), Catch::Contains("not checked"));
}

TEST_CASE("explain snp: a report of a launch from the build's IGVM file matches",
          "[explain][igvm]") {
  Build b;
  // outputs.igvm for 2 vCPUs, a count the launch digests do not hold: its
  // digest is the reference tool's for that launch (igvm_recipe_test.cpp).
  auto m = attest::json::parse(test::read_text(b.out / "manifest.json"));
  m["measurements"]["snp"]["igvm"] = {{{"file", "snp-2vcpu.igvm"}, {"digest", milan(2)}}};
  test::write_text(b.out / "manifest.json", m.dump(2));
  const auto r = b.explain(b.report(milan(2)));
  CHECK(r.matches());
  const auto& c = check(r, "measurement");
  CHECK(c.status == ExplainStatus::kMatch);
  CHECK_THAT(why(c), Catch::Contains("measurements.snp.igvm[0]: the launch of the IGVM file "
                                     "snp-2vcpu.igvm"));
  // A report of neither is still explained against the launch digests.
  CHECK(!b.explain(b.report(std::string(96, 'a')), false).matches());
}

TEST_CASE("explain snp: names the vCPU count", "[explain]") {
  Build b;
  const auto r = b.explain(b.report(milan(2)));
  CHECK(!r.matches());
  const auto& m = check(r, "measurement");
  CHECK(m.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(m), Catch::Contains("the VM ran with 2 vCPUs; the recipe measured 1 and 4"));
  REQUIRE(m.details["reproduced_by"].size() == 1);
  CHECK(m.details["reproduced_by"][0]["vcpus"] == 2);
  CHECK(m.details["reproduced_by"][0]["vcpu_sig"] == "0xa00f11");
}

TEST_CASE("explain snp: names the vCPU type", "[explain]") {
  Build b;
  const auto r = b.explain(
      b.report(snp_vector("--mode snp --vcpus 4 --vcpu-type EPYC-Genoa --vmm-type QEMU " + kOvmf)));
  const auto& m = check(r, "measurement");
  CHECK(m.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(m), Catch::Contains("the vCPU type was EPYC-Genoa (0xa10f10); the recipe measured "
                                     "EPYC-Milan (0xa00f11)"));
  CHECK_THAT(why(m), !Catch::Contains("the VM ran with"));
}

TEST_CASE("explain snp: names -cpu host from the report's own CPUID", "[explain]") {
  Build b;
  // A version 3 report states the chip: family 19h, model 11h, stepping 1.
  const auto r = b.explain(b.report(
      snp_vector("--mode snp --vcpus 2 --vcpu-family 25 --vcpu-model 17 --vcpu-stepping 1 " +
                 kOvmf),
      ", \"cpuid_fam_id\": 25, \"cpuid_mod_id\": 17, \"cpuid_step\": 1"));
  const auto& m = check(r, "measurement");
  CHECK_THAT(why(m), Catch::Contains("the vCPU type was signature 0xa10f11 (the chip's own CPUID"));
  CHECK(m.details["reproduced_by"][0]["vcpu_sig"] == "0xa10f11");
  // Without the CPUID fields the signature is not among the QEMU models.
  const auto v2 = b.explain(b.report(snp_vector(
      "--mode snp --vcpus 2 --vcpu-family 25 --vcpu-model 17 --vcpu-stepping 1 " + kOvmf)));
  CHECK_THAT(why(check(v2, "measurement")), Catch::Contains("no launch parameter reproduces it"));
}

TEST_CASE("explain snp: names the VMM", "[explain]") {
  Build b;
  const auto r = b.explain(
      b.report(snp_vector("--mode snp --vcpus 2 --vcpu-type EPYC-Milan --vmm-type ec2 " + kOvmf)));
  const auto& m = check(r, "measurement");
  CHECK_THAT(why(m), Catch::Contains("the VMM was ec2; the recipe measured QEMU"));
  CHECK(m.details["reproduced_by"][0]["vcpus"] == 2);
}

TEST_CASE("explain snp: names the guest features word", "[explain]") {
  Build b;
  const auto r = b.explain(b.report(
      snp_vector("--mode snp --vcpus 2 --vcpu-type EPYC-Milan --guest-features 0x21 " + kOvmf)));
  const auto& m = check(r, "measurement");
  CHECK_THAT(why(m), Catch::Contains("the guest features word was 0x21 (SNPActive, DebugSwap); "
                                     "the recipe measured 0x1"));
}

TEST_CASE("explain snp: names kernel hashes on", "[explain]") {
  Build b;
  const auto r =
      b.explain(b.report(snp_vector("--mode snp --vcpus 1 --vcpu-type EPYC-Milan --vmm-type QEMU " +
                                    kOvmf + " --kernel kernel.bin")));
  const auto& m = check(r, "measurement");
  CHECK_THAT(why(m), Catch::Contains("the launch measured the kernel hashes table"));
  CHECK(m.details["reproduced_by"][0]["kernel_hashes"] == true);
}

TEST_CASE("explain snp: no parameter change reproduces another firmware's value", "[explain]") {
  Build b;
  // The same launch on the 2 MiB firmware: the reference tool's value.
  const auto r =
      b.explain(b.report(snp_vector("--mode snp --vcpus 1 --vcpu-type EPYC-Milan --vmm-type QEMU "
                                    "--ovmf synth_ovmf_2m.fd")));
  const auto& m = check(r, "measurement");
  CHECK(m.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(m), Catch::Contains("no launch parameter reproduces it"));
  CHECK_THAT(why(m), Catch::Contains("the firmware or a measured input"));
  CHECK(m.details["reproduced_by"].empty());
}

TEST_CASE("explain snp: without the firmware input, says the search did not run", "[explain]") {
  Build b;
  const auto r = b.explain(b.report(milan(2)), false);
  CHECK_THAT(why(check(r, "measurement")), Catch::Contains("was not found (give --inputs DIR)"));
}

TEST_CASE("explain snp: HOST_DATA and POLICY differences", "[explain]") {
  Build b;
  const std::string other = std::string(62, '0') + "cd";
  const auto r =
      b.explain(b.report(milan(1), ", \"host_data\": \"" + other + "\", \"policy\": \"0x80000\""));
  const auto& h = check(r, "host_data");
  CHECK(h.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(h), Catch::Contains("another init-data document"));
  const auto& p = check(r, "policy");
  CHECK(p.status == ExplainStatus::kMismatch);
  CHECK(p.actual == "0x80000");
  CHECK_THAT(why(p), Catch::Contains("bit 17"));
  const auto r2 = b.explain(b.report(
      milan(1), ", \"host_data\": \"" + std::string(64, '0') + "\", \"policy\": \"0xb0000\""));
  CHECK_THAT(why(check(r2, "host_data")), Catch::Contains("without host-data"));
  CHECK_THAT(why(check(r2, "policy")), Catch::Contains("debug: the recipe has 0, the VM was "
                                                       "launched with 1"));
}

TEST_CASE("explain snp: one VMSA page more equals the launch digest of one vCPU more",
          "[explain]") {
  test::TempDir dir;
  test::write_snp_fixtures(dir.path());
  const Bytes fw = read_file(dir / "synth_ovmf_4m.fd");
  const SevFirmware parsed = parse_sev_firmware(ByteReader(fw, "fw"));
  SnpInputs in;
  in.vcpu_sig = 0xa10f10;
  in.guest_features = 0x21;
  in.ovmf_hash = snp_ovmf_hash(fw);
  in.vcpus = 1;
  Bytes ld = snp_launch_digest(fw, parsed, in, "fw");
  const Bytes ap = snp_vmsa(*parsed.reset_eip, in.guest_features, in.vcpu_sig, in.vmm);
  for (std::uint32_t n = 2; n <= 512; ++n) {
    ld = attest::snp_add_vmsa_page(ld, ap);
    if (n == 2 || n == 37 || n == 512) {
      in.vcpus = n;
      CHECK(to_hex(ld) == to_hex(snp_launch_digest(fw, parsed, in, "fw")));
    }
  }
  // The search finds a count far from the recorded ones, on any thread count.
  attest::SnpSearchSpace space = attest::default_snp_search_space();
  for (unsigned threads : {1u, 3u}) {
    const auto found =
        attest::search_snp_measurement(fw, parsed, *in.ovmf_hash, space, ld, "fw", threads);
    REQUIRE(found.size() == 1);
    CHECK(found[0].vcpus == 512);
    CHECK(found[0].vcpu_sig == 0xa10f10);
    CHECK(found[0].guest_features == 0x21);
  }
}

TEST_CASE("explain snp: the signature of a real report, with its certificate and another",
          "[explain]") {
  const fs::path v = test::source_dir() / "tests/vectors/snp_report";
  const auto report = evidence::parse_snp_report(read_file(v / "vcek-report-v2.bin"), "r");
  const auto ok = attest::check_snp_signature(report, read_file(v / "vcek.der"), "vcek.der");
  CHECK(ok.status == ExplainStatus::kMatch);
  CHECK_THAT(why(ok), Catch::Contains("verifies with the public key of vcek.der"));
  const auto bad = attest::check_snp_signature(report, read_file(v / "vlek.der"), "vlek.der");
  CHECK(bad.status == ExplainStatus::kMismatch);
  const auto junk = attest::check_snp_signature(report, Bytes{1, 2, 3}, "junk");
  CHECK(junk.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(junk), Catch::Contains("not an X.509 certificate"));
}

TEST_CASE("explain snp: the certificate against AMD's Milan chain", "[explain]") {
  const fs::path v = test::source_dir() / "tests/vectors/snp_report";
  const Bytes chain = read_file(v / "milan_ask_ark_asvk.pem");
  auto check_with = [&](const char* report, const char* cert, const Bytes& bundle) {
    return attest::check_snp_signature(evidence::parse_snp_report(read_file(v / report), report),
                                       read_file(v / cert), cert, bundle, "milan.pem");
  };
  const auto vcek = check_with("vcek-report-v2.bin", "vcek.der", chain);
  CHECK(vcek.status == ExplainStatus::kMatch);
  CHECK_THAT(why(vcek), Catch::Contains("vcek.der chains to the ARK in milan.pem (CN ARK-Milan, "
                                        "SHA-256 fingerprint "));
  // The VLEK was valid for one year, to 10 Dec 2025 (openssl verify says the
  // same): its signature verifies, its certificate no longer does.
  const auto vlek = check_with("vlek-report-v3.bin", "vlek.der", chain);
  CHECK(vlek.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(vlek), Catch::Contains("the report's signature verifies"));
  CHECK_THAT(why(vlek), Catch::Contains("certificate has expired"));
  // A chain without the ARK: the VCEK's issuer is there, its root is not.
  const std::string text(chain.begin(), chain.end());
  const std::size_t second = text.find("-----BEGIN", 1);
  const std::size_t third = text.find("-----BEGIN", second + 1);
  std::string no_ark = text.substr(0, second) + text.substr(third);
  const auto broken =
      check_with("vcek-report-v2.bin", "vcek.der", Bytes(no_ark.begin(), no_ark.end()));
  CHECK(broken.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(broken), Catch::Contains("vcek.der does not chain to milan.pem"));
}

TEST_CASE("explain snp: the coco-guest example's manifest on Debian 12's OVMF", "[explain]") {
  // The golden manifest measured EPYC-Milan with 1 and 4 vCPUs on QEMU; the
  // report's MEASUREMENT is sev-snp-measure's for the same firmware on ec2.
  const fs::path fw_dir = test::source_dir() / "examples/coco-guest";
  if (!fs::exists(fw_dir / "../../.cache/debian/OVMF/OVMF_CODE.fd")) {
    test::skip_or_fail("Debian's OVMF_CODE.fd: run scripts/fetch-debian-inputs");
    return;
  }
  test::TempDir dir;
  fs::create_directories(dir / "out");
  fs::copy_file(test::source_dir() / "tests/golden/coco-guest/manifest.json",
                dir / "out/manifest.json");
  attest::VerifyContext ctx{dir / "out",
                            attest::json::parse(test::read_text(dir / "out/manifest.json")),
                            "manifest.json"};
  ctx.input_dirs.push_back(fw_dir);
  auto explain = [&](const std::string& measurement) {
    test::write_text(dir / "f.json",
                     "{\"version\": 2, \"signature_algo\": 1, \"policy\": "
                     "\"0x30000\", \"measurement\": \"" +
                         measurement + "\"}");
    const auto r = test::run(
        {"/usr/bin/python3",
         (test::source_dir() / "tests/builder/formats/evidence/snp_report_model.py").string(),
         (dir / "f.json").string(), (dir / "r.bin").string()});
    REQUIRE(r.exit_code == 0);
    return attest::explain_snp_report(
        ctx, evidence::parse_snp_report(read_file(dir / "r.bin"), "r.bin"), "r.bin", {});
  };
  const auto ok =
      explain(snp_vector("--mode snp --vcpus 4 --vcpu-type EPYC-Milan --ovmf deb12_OVMF_CODE.fd"));
  CHECK(ok.matches());
  const auto ec2 = explain(snp_vector(
      "--mode snp --vcpus 4 --vcpu-type EPYC-Genoa --vmm-type ec2 --ovmf deb12_OVMF_CODE.fd"));
  const auto& m = check(ec2, "measurement");
  CHECK(m.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(m), Catch::Contains("the VMM was ec2; the recipe measured QEMU"));
  CHECK_THAT(why(m), !Catch::Contains("the VM ran with"));
  // Debian's OVMF has no SNP_KERNEL_HASHES section: kernel hashes are not tried.
  CHECK(m.details["searched"]["kernel_hashes"] == "off");
}

}  // namespace
}  // namespace mkguest
