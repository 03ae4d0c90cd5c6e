// The OUTDIR of an SEV-SNP build for the `explain` tests: a manifest that
// measured EPYC-Milan with 1 and 4 vCPUs on QEMU (digests from the reference
// tool, tests/vectors/snp.txt), the synthetic firmware of snp_fixtures.h as
// its input, and reports built by the Python model of the ABI table
// (tests/builder/formats/evidence/snp_report_model.py).
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "base/file.h"
#include "builder/formats/evidence/snp_report.h"
#include "builder/verify/explain.h"
#include "tests/snp_fixtures.h"
#include "tests/test_util.h"

namespace mkguest::test {

namespace fs = std::filesystem;

// The reference tool's output for ARGS in tests/vectors/snp.txt.
inline std::string snp_vector(const std::string& args) {
  std::ifstream in(test::source_dir() / "tests/vectors/snp.txt");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(args + " | 0 | ", 0) == 0) return line.substr(args.size() + 7);
  FAIL("no vector for " << args);
  return {};
}
inline const std::string kOvmf = "--ovmf synth_ovmf_4m.fd";
inline std::string milan(int vcpus) {
  return snp_vector("--mode snp --vcpus " + std::to_string(vcpus) +
                    " --vcpu-type EPYC-Milan --vmm-type QEMU " + kOvmf);
}

// OUTDIR: a manifest that measured EPYC-Milan with 1 and 4 vCPUs on QEMU,
// without kernel hashes, policy 0x30000 and an init-data binding; the kernel
// as an output; the firmware in `inputs`.
struct Build {
  test::TempDir dir;
  fs::path out = dir / "out";
  fs::path inputs = dir / "inputs";
  std::string host_data = std::string(62, '0') + "ab";
  Build() {
    fs::create_directories(out);
    fs::create_directories(inputs);
    test::write_snp_fixtures(inputs);
    fs::copy_file(inputs / "kernel.bin", out / "kernel.bin");
    const std::string fw_sha = test::sha256_file(inputs / "synth_ovmf_4m.fd");
    attest::json entry = {
        {"mode", "snp"},          {"vmm", "QEMU"},           {"vcpu_type", "EPYC-Milan"},
        {"vcpu_sig", "0xa00f11"}, {"guest_features", "0x1"}, {"kernel_hashes", false}};
    attest::json e1 = entry, e4 = entry;
    e1["vcpus"] = 1;
    e1["digest"] = milan(1);
    e4["vcpus"] = 4;
    e4["digest"] = milan(4);
    attest::json m = {{"manifest_version", 1},
                      {"outputs", {{{"role", "kernel"}, {"file", "kernel.bin"}}}},
                      {"measurements",
                       {{"snp",
                         {{"firmware", {{"path", "synth_ovmf_4m.fd"}, {"sha256", fw_sha}}},
                          {"ovmf_hash", snp_vector("--mode snp:ovmf-hash " + kOvmf)},
                          {"launch_digests", {e1, e4}},
                          {"host_data", host_data},
                          {"policy",
                           {{"abi_major", 0},
                            {"abi_minor", 0},
                            {"smt_allowed", true},
                            {"migrate_ma", false},
                            {"debug", false},
                            {"single_socket", false},
                            {"value", "0x30000"}}}}}}}};
    test::write_text(out / "manifest.json", m.dump(2));
  }
  attest::VerifyContext ctx(bool with_inputs = true) const {
    attest::VerifyContext c{out, attest::json::parse(test::read_text(out / "manifest.json")),
                            "manifest.json"};
    if (with_inputs) c.input_dirs.push_back(inputs);
    return c;
  }
  // A report from the Python model with these fields (JSON body).
  Bytes report(const std::string& measurement, const std::string& extra = "") const {
    const std::string fields =
        "{\"version\": 3, \"signature_algo\": 1, \"policy\": \"0x30000\", "
        "\"host_data\": \"" +
        host_data + "\", \"measurement\": \"" + measurement + "\"" + extra + "}";
    test::write_text(dir / "fields.json", fields);
    const auto r = test::run(
        {"/usr/bin/python3",
         (test::source_dir() / "tests/builder/formats/evidence/snp_report_model.py").string(),
         (dir / "fields.json").string(), (dir / "report.bin").string()});
    REQUIRE(r.exit_code == 0);
    return read_file(dir / "report.bin");
  }
  attest::ExplainResult explain(const Bytes& report, bool with_inputs = true) const {
    return attest::explain_snp_report(
        ctx(with_inputs), evidence::parse_snp_report(report, "report.bin"), "report.bin", {});
  }
};

}  // namespace mkguest::test
