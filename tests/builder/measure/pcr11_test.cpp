// `mkguest measure pcr11` against systemd-measure 252 (Debian 12's systemd):
// the same stdout, stderr and JSON over a matrix of section sets, banks,
// phases and output modes; --uki against the sections given one by one; the
// 252/257 rules for .uname and .sbat against an independent Python formula.
#include <catch2/catch.hpp>

#include "base/file.h"
#include "firmware/tpm_pcr.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {
const char* kMeasure = "/usr/lib/systemd/systemd-measure";

bool have_measure() {
  if (!fs::exists(kMeasure)) {
    test::skip_or_fail(std::string(kMeasure) +
                       " missing (scripts/install-deps --test installs systemd)");
    return false;
  }
  return true;
}
}  // namespace

TEST_CASE("measure pcr11 prints what systemd-measure 252 calculate prints", "[pcr]") {
  if (!have_measure()) return;
  test::TempDir d;
  test::write_text(d / "linux", "kernel image bytes");
  test::write_text(d / "osrel", "ID=test\n");
  test::write_text(d / "cmdline", "console=ttyS0 root=/dev/vda");
  test::write_text(d / "initrd", std::string(100000, 'i'));
  test::write_text(d / "splash", "BMsplash");
  test::write_text(d / "dtb", std::string("\xd0\x0d\xfe\xed", 4) + "tree");
  test::write_text(d / "pcrpkey", "-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----\n");
  test::write_text(d / "empty", "");
  const std::vector<std::vector<std::string>> sets = {
      {"--linux=linux"},
      {"--linux=linux", "--osrel=osrel", "--cmdline=cmdline", "--initrd=initrd"},
      {"--linux=linux", "--splash=splash", "--dtb=dtb", "--pcrpkey=pcrpkey"},
      {"--linux=linux", "--osrel=osrel", "--cmdline=cmdline", "--initrd=initrd", "--splash=splash",
       "--dtb=dtb", "--pcrpkey=pcrpkey"},
      {"--linux=linux", "--initrd=empty", "--cmdline=cmdline"},
      {"--linux=empty"},
      // Empty values unset a file option, as systemd-measure's parse_path_argument does.
      {"--linux=linux", "--osrel=", "--cmdline=cmdline", "--initrd=", "--splash="},
  };
  const std::vector<std::vector<std::string>> modes = {
      {},
      {"--bank=sha256"},
      {"--bank=SHA384", "--bank=sha1", "--phase=enter-initrd", "--phase=:"},
      {"--bank=sha512", "--phase=enter-initrd:leave-initrd:sysinit", "--phase=shutdown",
       "--phase=final", "--json=short"},
      {"--phase=enter-initrd", "--phase=enter-initrd", "--json=pretty"},
      {"-j", "--bank=sha256"},
      {"--json=off", "--bank=sha1", "--phase=a:b::c"},
      {"--bank=sha256", "--phase=", "--phase=enter-initrd"},  // "--phase=" is the phase ":"
  };
  int n = 0;
  for (const auto& set : sets) {
    for (const auto& mode : modes) {
      std::vector<std::string> args = set;
      args.insert(args.end(), mode.begin(), mode.end());
      std::vector<std::string> ref{kMeasure, "calculate"};
      ref.insert(ref.end(), args.begin(), args.end());
      std::vector<std::string> ours{"measure", "pcr11"};
      ours.insert(ours.end(), args.begin(), args.end());
      auto r = test::run(ref, {}, d.path());
      std::string all;
      for (const auto& a : args) all += a + " ";
      INFO(all);
      REQUIRE(r.exit_code == 0);
      // systemd-measure's own form, with the verb, and the bare form.
      std::vector<std::string> verb = ours;
      verb.insert(verb.begin() + 2, "calculate");
      for (const auto& cmd : {verb, ours}) {
        auto o = test::run_mkguest(cmd, {}, d.path());
        CHECK(o.exit_code == 0);
        CHECK(o.out == r.out);
        CHECK(o.err == r.err);
      }
      ++n;
    }
  }
  CHECK(n == 56);
  // What systemd-measure refuses (exit 1), mkguest refuses: an empty bank or
  // --json= value, no kernel, and a verb it does not have.
  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--linux=linux", "--bank="}, {"--linux=linux", "--json="}, {"--linux="}}) {
    std::vector<std::string> ref{kMeasure, "calculate"};
    ref.insert(ref.end(), bad.begin(), bad.end());
    std::vector<std::string> ours{"measure", "pcr11", "calculate"};
    ours.insert(ours.end(), bad.begin(), bad.end());
    CHECK(test::run(ref, {}, d.path()).exit_code == 1);
    CHECK(test::run_mkguest(ours, {}, d.path()).exit_code == 1);
  }
  CHECK(
      test::run_mkguest({"measure", "pcr11", "status", "--linux=linux"}, {}, d.path()).exit_code ==
      1);
  auto none = test::run_mkguest({"measure", "pcr11", "--osrel=osrel"}, {}, d.path());
  CHECK(none.exit_code == 1);
  CHECK(none.err.find("either --linux= or --uki= must be specified") != std::string::npos);
}

TEST_CASE("measure pcr11 --uki reads the sections of a built UKI", "[pcr][uki]") {
  const fs::path stub = test::source_dir() /
                        ".cache/debian/root/systemd-boot-efi/usr/lib/systemd/boot/efi/"
                        "linuxx64.efi.stub";
  if (!have_measure() || !fs::exists(stub)) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first");
    return;
  }
  test::TempDir d;
  test::write_text(d / "linux", "kernel image bytes");
  test::write_text(d / "osrel", "ID=test\n");
  test::write_text(d / "cmdline", "console=ttyS0");
  test::write_text(d / "initrd", std::string(5000, 'i'));
  auto b = test::run_mkguest(
      {"uki", "build", "--stub", stub.string(), "--linux=linux", "--initrd=initrd",
       "--cmdline=@cmdline", "--os-release=@osrel", "--uname=6.1.0-test", "-o", "uki.efi"},
      {}, d.path());
  REQUIRE(b.exit_code == 0);
  auto r = test::run({kMeasure, "calculate", "--linux=linux", "--osrel=osrel", "--cmdline=cmdline",
                      "--initrd=initrd"},
                     {}, d.path());
  // The 252 stub (from .sdmagic) measures neither .uname nor .sbat.
  auto o = test::run_mkguest({"measure", "pcr11", "--uki=uki.efi"}, {}, d.path());
  CHECK(o.out == r.out);
  // A 257 stub measures them: an independent formula (Python hashlib) says what.
  auto o257 = test::run_mkguest(
      {"measure", "pcr11", "--uki=uki.efi", "--stub-version=257", "--bank=sha256", "--phase=:"}, {},
      d.path());
  const std::string py = R"(
import hashlib, struct, sys
b = open("uki.efi", "rb").read()
pe = struct.unpack_from("<I", b, 0x3c)[0]
n, opt = struct.unpack_from("<H", b, pe + 6)[0], struct.unpack_from("<H", b, pe + 20)[0]
secs = {}
for i in range(n):
    e = pe + 24 + opt + 40 * i
    name = b[e:e + 8].rstrip(b"\0").decode()
    vs, va, rs, rp = struct.unpack_from("<IIII", b, e + 8)
    secs[name] = b[rp:rp + min(vs, rs)]
pcr = bytes(32)
for name in [".linux", ".osrel", ".cmdline", ".initrd", ".ucode", ".splash", ".dtb", ".uname", ".sbat", ".pcrpkey"]:
    if secs.get(name):
        for data in (name.encode() + b"\0", secs[name]):
            pcr = hashlib.sha256(pcr + hashlib.sha256(data).digest()).digest()
print("11:sha256=" + pcr.hex())
)";
  auto p = test::run({"/usr/bin/python3", "-c", py}, {}, d.path());
  REQUIRE(p.exit_code == 0);
  CHECK(o257.out == p.out);
  CHECK(o257.out !=
        test::run_mkguest({"measure", "pcr11", "--uki=uki.efi", "--bank=sha256", "--phase=:"}, {},
                          d.path())
            .out);
}

TEST_CASE("stub rules and helpers", "[pcr]") {
  CHECK(tpm::stub_major("252.39-1~deb12u2") == 252);
  CHECK(tpm::stub_major("") == 0);
  CHECK(tpm::pcr11_sections(252) == std::vector<std::string>{".linux", ".osrel", ".cmdline",
                                                             ".initrd", ".splash", ".dtb",
                                                             ".pcrpkey"});
  CHECK(tpm::pcr11_sections(257).size() == 13);  // .pcrsig is never measured
  CHECK(to_hex(tpm::utf16le_with_nul("a\xc3\xa9")) == "6100e9000000");
  // docs/specs/uki.md §6 TV4: systemd-measure calculate --linux=linux (the 6 bytes "kernel")
  // --phase=:
  const std::string k = "kernel";
  CHECK(to_hex(tpm::pcr11(HashAlg::kSha256, {{".linux", as_bytes(k)}}, 252, ":")) ==
        "ff4d55cd85724de92ab538c82df0dd57ae0b5281e088a1a64df159f33c343702");
}
