// `explain` for a vTPM event log. The UKI is a real test build (Debian's
// systemd 252 stub and kernel, `mkguest uki build`), measurements.tpm its
// prediction as the build writes it (predict_uki_pcrs); the event log and the
// quoted PCR values come from an independent stdlib-Python writer that
// follows the specs (tests/builder/formats/evidence/tcg_log_writer.py), with
// one thing changed per case: another UKI booted, an extra event, a missing
// event, PCR values that are not the log's.
#include <catch2/catch.hpp>
#include <string>

#include "base/encoding.h"
#include "base/file.h"
#include "builder/formats/evidence/pcr_values.h"
#include "builder/formats/evidence/tcg_log.h"
#include "builder/measure/uki_pcrs.h"
#include "builder/verify/explain.h"
#include "tests/test_util.h"

namespace mkguest {
namespace {

namespace fs = std::filesystem;
using attest::ExplainStatus;

const fs::path kStub =
    ".cache/debian/root/systemd-boot-efi/usr/lib/systemd/boot/efi/"
    "linuxx64.efi.stub";

struct Guest {
  test::TempDir dir;
  fs::path out = dir / "out";
  bool ok = false;
  Guest() {
    const fs::path stub = test::source_dir() / kStub;
    const fs::path kernel = test::source_dir() / ".cache/debian/vmlinuz";
    if (!fs::exists(stub) || !fs::exists(kernel)) {
      test::skip_or_fail("run scripts/fetch-debian-inputs first");
      return;
    }
    fs::create_directories(out);
    test::write_text(dir / "osrel", "ID=test\n");
    test::write_text(dir / "initrd", std::string(5000, 'i'));
    for (const auto& [file, cmdline] :
         {std::pair<std::string, std::string>{"out/uki.efi", "console=ttyS0 ro"},
          {"other.efi", "console=ttyS0 ro debug"}}) {
      const auto b = test::run_mkguest(
          {"uki", "build", "--stub", stub.string(), "--linux", kernel.string(), "--initrd=initrd",
           "--cmdline=" + cmdline, "--os-release=@osrel", "-o", file},
          {}, dir.path());
      REQUIRE(b.exit_code == 0);
    }
    const Bytes uki = read_file(out / "uki.efi");
    const attest::json m = {{"manifest_version", 1},
                            {"uki", {{"file", "uki.efi"}}},
                            {"measurements", {{"tpm", predict_uki_pcrs(uki, "uki.efi", false)}}}};
    test::write_text(out / "manifest.json", m.dump(2));
    ok = true;
  }
  // Writes log.bin and pcrs.yaml with the writer's extra arguments.
  void write(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {
        "/usr/bin/python3",
        (test::source_dir() / "tests/builder/formats/evidence/tcg_log_writer.py").string(),
        (out / "uki.efi").string(), (dir / "log.bin").string(), (dir / "pcrs.yaml").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = test::run(argv);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  attest::ExplainResult explain(const std::vector<std::string>& args, bool with_pcrs = true) const {
    write(args);
    const attest::VerifyContext ctx{
        out, attest::json::parse(test::read_text(out / "manifest.json")), "manifest.json"};
    const auto log = evidence::parse_tcg_log(read_file(dir / "log.bin"), "log.bin");
    const auto pcrs =
        with_pcrs ? evidence::parse_pcrread_yaml(test::read_text(dir / "pcrs.yaml"), "pcrs.yaml")
                  : evidence::PcrValues{};
    return attest::explain_tpm_log(ctx, log, pcrs, "log.bin", "pcrs.yaml");
  }
};

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

}  // namespace

TEST_CASE("explain tpm: the log of this build's boot matches, on both boot paths",
          "[explain][tpm]") {
  Guest g;
  if (!g.ok) return;
  for (const char* path : {"disk", "qemu-kernel"}) {
    INFO(path);
    const auto r = g.explain({"--path", path});
    CHECK(r.kind == "tpm-log");
    for (const char* c : {"pcr4", "pcr9", "pcr11", "pcr12", "event_log"}) {
      INFO(c << ": " << why(check(r, c)));
      CHECK(check(r, c).status == ExplainStatus::kMatch);
    }
    CHECK(check(r, "pcr4").details["name"] == path);
    CHECK(check(r, "signature").status == ExplainStatus::kNotChecked);
    CHECK(r.matches());
  }
  // Without PCR values the replay is compared; systemd-pcrphase's words in
  // the quoted PCR 11 are named as userspace extends.
  CHECK(g.explain({}, false).matches());
  const auto ph = g.explain({"--phase", "enter-initrd"});
  CHECK(ph.matches());
  CHECK(check(ph, "pcr11").details["name"] == "enter-initrd");
  CHECK_THAT(why(check(ph, "event_log")),
             Catch::Contains("plus systemd-pcrphase's \"enter-initrd\""));
}

TEST_CASE("explain tpm: another UKI booted is named at its PCR 4 event", "[explain][tpm]") {
  Guest g;
  if (!g.ok) return;
  const auto r = g.explain({"--other-uki", (g.dir / "other.efi").string()});
  CHECK(!r.matches());
  CHECK(check(r, "event_log").status == ExplainStatus::kMatch);
  const auto& p4 = check(r, "pcr4");
  REQUIRE(p4.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(p4), Catch::Contains("PCR 4, event 3 (log offset 0x") &&
                          Catch::Contains("EV_EFI_BOOT_SERVICES_APPLICATION differs: Authenticode "
                                          "of the UKI; the booted UKI is not this build's"));
  CHECK(p4.details["first_difference"]["path"] == "disk");
  // Its command line differs too: PCR 9's first event and PCR 11's .cmdline.
  CHECK_THAT(why(check(r, "pcr9")),
             Catch::Contains("PCR 9, event 1") && Catch::Contains("the command line differs"));
  CHECK_THAT(why(check(r, "pcr11")), Catch::Contains("EV_IPL differs: the UKI's .cmdline section"));
  CHECK(check(r, "pcr12").status == ExplainStatus::kMatch);
}

TEST_CASE("explain tpm: an event the prediction lacks, and one the log lacks", "[explain][tpm]") {
  Guest g;
  if (!g.ok) return;
  const auto extra = g.explain({"--extra", "12"});
  CHECK_THAT(why(check(extra, "pcr12")),
             Catch::Contains("PCR 12, event 1 (log offset 0x") &&
                 Catch::Contains("the prediction lacks this EV_EVENT_TAG"));
  CHECK(check(extra, "pcr4").status == ExplainStatus::kMatch);
  const auto extra9 = g.explain({"--extra", "9"});
  CHECK_THAT(why(check(extra9, "pcr9")), Catch::Contains("PCR 9, event 3"));
  const auto missing = g.explain({"--drop", "9"});
  CHECK_THAT(why(check(missing, "pcr9")),
             Catch::Contains("PCR 9, event 2: the log lacks EV_EVENT_TAG (the initrd the kernel "
                             "loaded (.initrd); the initrd differs"));
  const auto missing4 = g.explain({"--drop", "4"});
  CHECK_THAT(why(check(missing4, "pcr4")),
             Catch::Contains("PCR 4, event 4: the log lacks EV_EFI_BOOT_SERVICES_APPLICATION "
                             "(Authenticode of the UKI's .linux"));
}

TEST_CASE("explain tpm: PCR values that are not the log's", "[explain][tpm]") {
  Guest g;
  if (!g.ok) return;
  const auto r = g.explain({"--tamper", "4"});
  CHECK(!r.matches());
  const auto& log = check(r, "event_log");
  CHECK(log.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(log), Catch::Contains("PCR 4 (sha1): the log's replay is") &&
                           Catch::Contains("PCR 4 (sha256)") &&
                           Catch::Contains("the log does not match the PCRs"));
  CHECK_THAT(why(check(r, "pcr4")),
             Catch::Contains("every PCR 4 event of the log is the prediction, but the value is "
                             "not: the log does not match the PCRs"));
  // A PCR no prediction covers is still held against the log.
  const auto r0 = g.explain({"--tamper", "0"});
  CHECK_THAT(why(check(r0, "event_log")), Catch::Contains("PCR 0 (sha256)"));
  CHECK(check(r0, "pcr4").status == ExplainStatus::kMatch);
}

TEST_CASE("explain tpm: the CLI reads the log, PCR files, and says bad evidence",
          "[explain][tpm][cli]") {
  Guest g;
  if (!g.ok) return;
  g.write({});
  const std::string out = g.out.string(), log = (g.dir / "log.bin").string();
  auto r = test::run_mkguest({"explain", out, log, "--pcrs", (g.dir / "pcrs.yaml").string()});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("(tpm-log): MATCH"));
  // The sysfs layout: pcr-sha256/<N>, from the YAML's values.
  const auto v = evidence::parse_pcrread_yaml(test::read_text(g.dir / "pcrs.yaml"), "pcrs.yaml");
  fs::create_directories(g.dir / "tpm0/pcr-sha256");
  for (const auto& [i, d] : v.at(HashAlg::kSha256))
    test::write_text(g.dir / "tpm0/pcr-sha256" / std::to_string(i), to_hex(d) + "\n");
  r = test::run_mkguest({"explain", out, log, "--pcrs", (g.dir / "tpm0").string(), "--json"});
  CHECK(r.exit_code == 0);
  CHECK(attest::json::parse(r.out)["match"] == true);
  test::write_text(g.dir / "tpm0/pcr-sha256/4", std::string(64, '0') + "\n");
  r = test::run_mkguest({"explain", out, log, "--pcrs", (g.dir / "tpm0/pcr-sha256").string()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("the log does not match the PCRs"));
  test::write_text(g.dir / "tpm0/pcr-sha256/4", "zz\n");
  r = test::run_mkguest({"explain", out, log, "--pcrs", (g.dir / "tpm0").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("pcr-sha256/4:1: error: not a sha256 PCR value"));
  r = test::run_mkguest({"explain", out,
                         (test::source_dir() / "tests/vectors/tdx_quote/quote-v4.dat").string(),
                         "--pcrs", (g.dir / "pcrs.yaml").string()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("--pcrs needs a TPM event log"));
  Bytes bytes = read_file(log);
  bytes.resize(bytes.size() - 7);
  write_file(g.dir / "cut.bin", bytes);
  r = test::run_mkguest({"explain", out, (g.dir / "cut.bin").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("cut.bin:0x"));
  CHECK(r.out.empty());
}

}  // namespace mkguest
