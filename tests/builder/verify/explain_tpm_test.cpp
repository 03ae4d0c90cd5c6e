// `explain` for a vTPM event log. The UKI is a real test build (Debian's
// systemd 252 stub and kernel, `mkguest uki build`), measurements.tpm its
// prediction as the build writes it (predict_uki_pcrs); the event log and the
// quoted PCR values come from an independent stdlib-Python writer that
// follows the specs (tests/builder/formats/evidence/tcg_log_writer.py), with
// one thing changed per case: another UKI booted, an extra event, a missing
// event, PCR values that are not the log's.
#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "base/encoding.h"
#include "base/file.h"
#include "builder/formats/evidence/pcr_values.h"
#include "builder/formats/evidence/tcg_log.h"
#include "builder/measure/uki_pcrs.h"
#include "builder/verify/explain.h"
#include "firmware/tpm_pcr.h"
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
  // PCR 9 of a direct boot (pcr9.direct-qemu-ovmf) is a predicted value too.
  {
    auto m = attest::json::parse(test::read_text(g.out / "manifest.json"));
    auto& p9 = m["measurements"]["tpm"]["pcr9"]["sha256"];
    p9["direct-qemu-ovmf"] = p9["uki"];
    p9["uki"] = std::string(64, '0');
    test::write_text(g.out / "manifest.json", m.dump(2));
    const auto r = g.explain({});
    CHECK(check(r, "pcr9").status == ExplainStatus::kMatch);
    CHECK(check(r, "pcr9").details["name"] == "direct-qemu-ovmf");
    p9["uki"] = p9["direct-qemu-ovmf"];
    p9.erase("direct-qemu-ovmf");
    test::write_text(g.out / "manifest.json", m.dump(2));
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

TEST_CASE("explain tpm: a manifest without vTPM predictions", "[explain][tpm]") {
  Guest g;
  if (!g.ok) return;
  g.write({});
  const auto log = evidence::parse_tcg_log(read_file(g.dir / "log.bin"), "log.bin");
  const attest::VerifyContext ctx{g.out, {{"manifest_version", 1}}, "manifest.json"};
  const auto r = attest::explain_tpm_log(ctx, log, {}, "log.bin", "");
  CHECK(!r.matches());
  CHECK_THAT(why(check(r, "pcr4")), Catch::Contains("the manifest has no vTPM predictions"));
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

namespace mkguest {
namespace {

// A recorded boot of tests/e2e/boot-e2e.sh (tests/e2e/records/README.md): its
// firmware event log (base64 between @@EVENTLOG-BEGIN/END), the SHA-256 PCRs
// the guest read (@@PCR sha256 N HEX) and its command line (@@CMDLINE).
struct Record {
  Bytes log;
  evidence::PcrValues pcrs;
  std::string cmdline;
  explicit Record(const std::string& name) {
    std::istringstream in(test::read_text(test::source_dir() / "tests/e2e/records" / name));
    std::string line, b64;
    bool in_log = false;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line == "@@EVENTLOG-BEGIN")
        in_log = true;
      else if (line == "@@EVENTLOG-END")
        in_log = false;
      else if (in_log)
        b64 += line;
      else if (line.rfind("@@CMDLINE ", 0) == 0)
        cmdline = line.substr(10);
      else if (line.rfind("@@PCR sha256 ", 0) == 0) {
        std::istringstream f(line.substr(13));
        unsigned i = 0;
        std::string hex;
        f >> i >> hex;
        REQUIRE(from_hex(hex, &pcrs[HashAlg::kSha256][i]));
      }
    }
    REQUIRE(base64_decode(b64, &log));
    REQUIRE(pcrs[HashAlg::kSha256].size() == 16);
  }
};

std::vector<const evidence::TpmEvent*> events_of(const evidence::TpmEventLog& log, unsigned pcr) {
  std::vector<const evidence::TpmEvent*> out;
  for (const auto& e : log.events)
    if (e.pcr == pcr && e.type != 3) out.push_back(&e);
  return out;
}

}  // namespace

TEST_CASE("explain tpm: real boots' logs replay to the PCRs the guest read", "[explain][tpm]") {
  for (const char* name : {"direct.out", "uki-kernel.out", "uki-esp.out"}) {
    INFO(name);
    const Record rec(name);
    const auto log = evidence::parse_tcg_log(rec.log, name);
    const auto regs = evidence::replay_tcg_log(log);
    for (const auto& [i, value] : rec.pcrs.at(HashAlg::kSha256)) {
      INFO("PCR " << i);
      // PCR 10 is IMA's: the kernel extends it after boot, with a log of its own.
      if (i == 10)
        CHECK(to_hex(regs.at(HashAlg::kSha256)[i]) != to_hex(value));
      else
        CHECK(to_hex(regs.at(HashAlg::kSha256)[i]) == to_hex(value));
    }
    // explain, with the recorded values as the manifest's: every check
    // matches, the replay is the PCRs (no UKI in OUTDIR: events not named).
    test::TempDir d;
    const auto& v = rec.pcrs.at(HashAlg::kSha256);
    attest::json tpm = {{"pcr4", {{"sha256", {{"disk", to_hex(v.at(4))}}}}},
                        {"pcr11", {{"sha256", {{{"phase", ""}, {"value", to_hex(v.at(11))}}}}}},
                        {"pcr12", {{"sha256", to_hex(v.at(12))}}}};
    const attest::VerifyContext ctx{d.path(), {{"measurements", {{"tpm", tpm}}}}, "m.json"};
    const auto r = attest::explain_tpm_log(ctx, log, rec.pcrs, name, "pcrs");
    CHECK(r.matches());
    CHECK(check(r, "event_log").status == ExplainStatus::kMatch);
    CHECK_THAT(why(check(r, "event_log")),
               Catch::Contains("PCR 10 (sha256) has no event in the firmware log: extended after "
                               "boot (IMA, systemd), not compared"));
    CHECK(check(r, "pcr4").status == ExplainStatus::kMatch);
    // The same log against another PCR 4 value: named, without the UKI.
    tpm["pcr4"]["sha256"]["disk"] = std::string(64, '0');
    const attest::VerifyContext other{d.path(), {{"measurements", {{"tpm", tpm}}}}, "m.json"};
    CHECK_THAT(why(check(attest::explain_tpm_log(other, log, rec.pcrs, name, "pcrs"), "pcr4")),
               Catch::Contains("is not in the output directory"));
  }
  // The UKI boots' events are the ones predict_uki_events models: PCR 4's
  // order per boot path with the action and separator, PCR 9's LoadOptions
  // (the command line as UTF-16LE), PCR 11's .cmdline content (EV_IPL).
  const Bytes call = digest(HashAlg::kSha256, tpm::calling_efi_application());
  const Bytes sep = digest(HashAlg::kSha256, tpm::separator());
  for (const auto& [name, order] :
       {std::pair<std::string, std::vector<std::uint32_t>>{
            "uki-esp.out",
            {tpm::kEvEfiAction, tpm::kEvSeparator, tpm::kEvEfiBootServicesApplication,
             tpm::kEvEfiBootServicesApplication}},
        {"uki-kernel.out",
         {tpm::kEvEfiBootServicesApplication, tpm::kEvEfiAction, tpm::kEvSeparator,
          tpm::kEvEfiBootServicesApplication}}}) {
    INFO(name);
    const Record rec(name);
    const auto log = evidence::parse_tcg_log(rec.log, name);
    const auto p4 = events_of(log, 4);
    REQUIRE(p4.size() == order.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      CHECK(p4[i]->type == order[i]);
      if (order[i] == tpm::kEvEfiAction) CHECK(p4[i]->digests.at(HashAlg::kSha256) == call);
      if (order[i] == tpm::kEvSeparator) CHECK(p4[i]->digests.at(HashAlg::kSha256) == sep);
    }
    const auto p9 = events_of(log, 9);
    REQUIRE(p9.size() == 2);
    CHECK(p9[0]->digests.at(HashAlg::kSha256) ==
          digest(HashAlg::kSha256, tpm::utf16le_with_nul(rec.cmdline)));
    const auto p11 = events_of(log, 11);
    REQUIRE(p11.size() >= 6);
    CHECK(p11[5]->type == tpm::kEvIpl);
    CHECK(p11[5]->digests.at(HashAlg::kSha256) == digest(HashAlg::kSha256, rec.cmdline));
  }
}

}  // namespace mkguest
