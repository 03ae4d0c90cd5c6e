// Secure Boot signing: Authenticode digests against pesign (with and without
// the signers' pad-to-8) and osslsigncode; signed UKIs, kernels and stubs
// accepted by sbverify and osslsigncode, reproducible, rejected after one
// flipped byte; a key on a PKCS#11 token (SoftHSM2 through OpenSSL's pkcs11
// engine); keys never echoed.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <regex>

#include "base/file.h"
#include "builder/formats/pe/authenticode.h"
#include "builder/formats/pe/sign.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

fs::path stub252() {
  return test::source_dir() /
         ".cache/debian/root/systemd-boot-efi/usr/lib/systemd/boot/efi/linuxx64.efi.stub";
}
fs::path kernel() { return test::source_dir() / ".cache/debian/vmlinuz"; }

bool have_inputs() {
  if (!fs::exists(stub252()) || !fs::exists(kernel())) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return false;
  }
  return true;
}

std::string pesign_hash(const fs::path& f, bool padding) {
  std::vector<std::string> argv{"pesign", "--hash", "-i", f.string()};
  if (padding) argv.push_back("--padding");
  auto r = test::run(argv);
  std::smatch m;
  static const std::regex re("hash: ([0-9a-f]+)");
  return std::regex_search(r.out, m, re) ? m[1].str() : "pesign failed: " + r.err;
}

void make_db_key(const test::TempDir& d, const std::string& name) {
  auto r = test::run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                      (d / (name + ".key")).string(), "-out", (d / (name + ".crt")).string(),
                      "-subj", "/CN=mkguest test " + name, "-days", "3650"});
  REQUIRE(r.exit_code == 0);
  ::chmod((d / (name + ".key")).c_str(), 0600);
}

}  // namespace

TEST_CASE("Authenticode digests equal pesign's, with and without pad-to-8", "[sign]") {
  if (!have_inputs()) return;
  if (!test::have_tool("pesign")) {
    test::skip_or_fail("pesign missing (scripts/install-deps --test installs pesign)");
    return;
  }
  test::TempDir d;
  // The 252 stub is 83297 bytes: not a multiple of 8, so the two rules differ.
  Bytes odd = read_file(stub252());
  REQUIRE(odd.size() % 8 != 0);
  Bytes trailing = odd;
  trailing.insert(trailing.end(), {1, 2, 3});
  write_file(d / "trailing.efi", trailing);
  for (const fs::path& f : {stub252(), kernel(), d / "trailing.efi"}) {
    INFO(f.string());
    const Bytes b = read_file(f);
    CHECK(to_hex(pe::authenticode_digest(b, "f", HashAlg::kSha256)) == pesign_hash(f, false));
    CHECK(to_hex(authenticode_signed_digest(b, "f", HashAlg::kSha256)) == pesign_hash(f, true));
  }
  CHECK(pesign_hash(stub252(), false) != pesign_hash(stub252(), true));
}

TEST_CASE("signed images pass sbverify and osslsigncode, reproducibly", "[sign]") {
  if (!have_inputs()) return;
  if (!test::have_tool("sbverify") || !test::have_tool("osslsigncode")) {
    test::skip_or_fail(
        "sbsigntool or osslsigncode missing (scripts/install-deps --test installs both)");
    return;
  }
  test::TempDir d;
  make_db_key(d, "db");
  make_db_key(d, "other");
  test::write_text(d / "cmdline", "console=ttyS0");
  auto b = test::run_mkguest(
      {"uki", "build", "--stub", stub252().string(), "--linux", kernel().string(),
       "--cmdline=@cmdline", "--os-release=ID=t", "--secureboot-private-key=db.key",
       "--secureboot-certificate=db.crt", "--signing-time=1700000000", "-o", "uki.efi"},
      {}, d.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  auto b2 = test::run_mkguest(
      {"uki", "build", "--stub", stub252().string(), "--linux", kernel().string(),
       "--cmdline=@cmdline", "--os-release=ID=t", "--secureboot-private-key=db.key",
       "--secureboot-certificate=db.crt", "-o", "uki2.efi"},
      {"SOURCE_DATE_EPOCH=1700000000"}, d.path());
  REQUIRE(b2.exit_code == 0);
  CHECK(test::sha256_file(d / "uki.efi") == test::sha256_file(d / "uki2.efi"));
  CHECK(b.out.find("db.key") == std::string::npos);

  // The Debian kernel is already signed (by Debian): sign the stub and an
  // unsigned UKI of odd size instead.
  REQUIRE(test::run_mkguest({"uki", "build", "--stub", stub252().string(), "--linux",
                             kernel().string(), "--cmdline=x", "--os-release=", "-o", "plain.efi"},
                            {}, d.path())
              .exit_code == 0);
  for (const std::string& in : {stub252().string(), (d / "plain.efi").string()}) {
    const std::string out = (d / (fs::path(in).filename().string() + ".signed")).string();
    for (const char* digest : {"sha256", "none"}) {
      INFO(in << " signing time " << digest);
      auto s = test::run_mkguest(
          {"uki", "sign", in, "--secureboot-private-key=db.key", "--secureboot-certificate=db.crt",
           std::string("--signing-time=") + (std::string(digest) == "none" ? "none" : "1700000000"),
           "-o", out},
          {}, d.path());
      REQUIRE(s.exit_code == 0);
      CHECK(test::run({"sbverify", "--cert", "db.crt", out}, {}, d.path()).exit_code == 0);
      auto o = test::run({"osslsigncode", "verify", "-CAfile", "db.crt", "-in", out}, {}, d.path());
      INFO(o.out << o.err);
      CHECK(o.exit_code == 0);
      CHECK(test::run({"sbverify", "--cert", "other.crt", out}, {}, d.path()).exit_code != 0);
    }
  }
  for (const char* f : {"uki.efi"}) {
    CHECK(test::run({"sbverify", "--cert", "db.crt", f}, {}, d.path()).exit_code == 0);
    auto o = test::run({"osslsigncode", "verify", "-CAfile", "db.crt", "-in", f}, {}, d.path());
    CHECK(o.exit_code == 0);
    // osslsigncode's own digest of the file is the one we signed.
    const Bytes bytes = read_file(d / f);
    std::string upper = to_hex(pe::authenticode_digest(bytes, f, HashAlg::kSha256));
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(o.out.find("Calculated message digest : " + upper) != std::string::npos);
    const auto sigs = verify_pe_signatures(bytes, f, read_file(d / "db.crt"));
    REQUIRE(sigs.size() == 1);
    CHECK(sigs[0].digest_matches);
    CHECK(sigs[0].signature_valid);
    CHECK(sigs[0].chain_trusted);
    CHECK(sigs[0].subject.find("mkguest test db") != std::string::npos);
  }
  // One flipped byte inside .linux: every verifier says no.
  Bytes bad = read_file(d / "uki.efi");
  bad[bad.size() / 2] ^= 1;
  write_file(d / "bad.efi", bad);
  CHECK(test::run({"sbverify", "--cert", "db.crt", "bad.efi"}, {}, d.path()).exit_code != 0);
  CHECK(test::run({"osslsigncode", "verify", "-CAfile", "db.crt", "-in", "bad.efi"}, {}, d.path())
            .exit_code != 0);
  const auto sigs = verify_pe_signatures(bad, "bad.efi");
  REQUIRE(sigs.size() == 1);
  CHECK(!sigs[0].digest_matches);
  // Signing a signed image is refused.
  auto again = test::run_mkguest({"uki", "sign", "uki.efi", "--secureboot-private-key=db.key",
                                  "--secureboot-certificate=db.crt", "-o", "x.efi"},
                                 {}, d.path());
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("the image is already signed") != std::string::npos);
  // A certificate that does not hold the key is refused.
  auto mismatch =
      test::run_mkguest({"uki", "sign", stub252().string(), "--secureboot-private-key=db.key",
                         "--secureboot-certificate=other.crt", "-o", "y.efi"},
                        {}, d.path());
  CHECK(mismatch.exit_code == 2);
  CHECK(!fs::exists(d / "y.efi"));
}

TEST_CASE("a Secure Boot key on a PKCS#11 token (SoftHSM2)", "[sign]") {
  const fs::path module = "/usr/lib/softhsm/libsofthsm2.so";
  if (!have_inputs() || !test::have_tool("softhsm2-util") || !fs::exists(module) ||
      !fs::exists("/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so") ||
      !test::have_tool("sbverify")) {
    test::skip_or_fail(
        "softhsm2, libengine-pkcs11-openssl or sbsigntool is not installed (scripts/install-deps "
        "--test installs softhsm2, libengine-pkcs11-openssl, sbsigntool)");
    return;
  }
  test::TempDir d;
  make_db_key(d, "db");
  fs::create_directories(d / "tokens");
  test::write_text(d / "softhsm2.conf", "directories.tokendir = " + (d / "tokens").string() +
                                            "\nobjectstore.backend = file\nlog.level = ERROR\n");
  const std::string conf = "SOFTHSM2_CONF=" + (d / "softhsm2.conf").string();
  REQUIRE(test::run({"softhsm2-util", "--init-token", "--free", "--label", "sb", "--pin", "2468",
                     "--so-pin", "1357"},
                    {conf})
              .exit_code == 0);
  auto pk8 = test::run(
      {"openssl", "pkcs8", "-topk8", "-nocrypt", "-in", "db.key", "-out", "db.pk8"}, {}, d.path());
  REQUIRE(pk8.exit_code == 0);
  auto imp = test::run({"softhsm2-util", "--import", (d / "db.pk8").string(), "--token", "sb",
                        "--label", "db", "--id", "01", "--pin", "2468"},
                       {conf});
  INFO(imp.out << imp.err);
  REQUIRE(imp.exit_code == 0);
  auto s = test::run_mkguest(
      {"uki", "sign", stub252().string(),
       "--secureboot-private-key=pkcs11:token=sb;object=db;type=private", "--pkcs11-module",
       module.string(), "--passphrase-env", "PIN", "--secureboot-certificate=db.crt",
       "--signing-time=1700000000", "-o", "hsm.efi"},
      {conf, "PIN=2468",
       "LSAN_OPTIONS=suppressions=" + (test::source_dir() / "tests/lsan-libp11.supp").string()},
      d.path());
  INFO(s.err);
  REQUIRE(s.exit_code == 0);
  CHECK(s.out.find("2468") == std::string::npos);
  CHECK(s.err.find("2468") == std::string::npos);
  CHECK(test::run({"sbverify", "--cert", "db.crt", "hsm.efi"}, {}, d.path()).exit_code == 0);
  // The same RSA key from the PEM file gives the same bytes.
  auto p = test::run_mkguest(
      {"uki", "sign", stub252().string(), "--secureboot-private-key=db.key",
       "--secureboot-certificate=db.crt", "--signing-time=1700000000", "-o", "pem.efi"},
      {}, d.path());
  REQUIRE(p.exit_code == 0);
  CHECK(test::sha256_file(d / "pem.efi") == test::sha256_file(d / "hsm.efi"));
}

TEST_CASE("outputs.uki.secureboot signs the build's UKI reproducibly", "[sign][uki]") {
  if (!have_inputs() || !test::have_tool("sbverify")) {
    test::skip_or_fail(
        "inputs or sbsigntool missing (run scripts/fetch-debian-inputs; scripts/install-deps "
        "--test installs sbsigntool)");
    return;
  }
  test::TempDir d;
  make_db_key(d, "db");
  ::chmod((d / "db.key").c_str(), 0644);  // others may read it: a warning
  test::write_text(
      d / "recipe.yaml",
      "name: signed\nsource_date_epoch: 1700000000\nkernel: " + kernel().string() +
          "\ncmdline: console=ttyS0\noutputs:\n  uki:\n    stub: " + stub252().string() +
          "\n    secureboot: {key: db.key, certificate: db.crt}\n");
  auto a = test::run_mkguest({"build", "recipe.yaml", "-o", "a"}, {}, d.path());
  INFO(a.err);
  REQUIRE(a.exit_code == 0);
  CHECK(a.err.find("warning: key file db.key is accessible by group or others") !=
        std::string::npos);
  CHECK(test::run({"sbverify", "--cert", "db.crt", "a/uki.efi"}, {}, d.path()).exit_code == 0);
  auto b =
      test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "b"}, {"TZ=Asia/Tokyo"}, d.path());
  REQUIRE(b.exit_code == 0);
  CHECK(test::sha256_file(d / "a/uki.efi") == test::sha256_file(d / "b/uki.efi"));
  const std::string m = test::read_text(d / "a/manifest.json");
  CHECK(m.find("\"signatures\"") != std::string::npos);
  CHECK(m.find("BEGIN") == std::string::npos);
  CHECK(test::read_text(d / "a/manifest.json").find(test::read_text(d / "db.key").substr(40, 40)) ==
        std::string::npos);
}

TEST_CASE("Authenticode sha384 equals osslsigncode's", "[sign]") {
  if (!have_inputs() || !test::have_tool("osslsigncode")) {
    test::skip_or_fail(
        "inputs or osslsigncode missing (run scripts/fetch-debian-inputs; scripts/install-deps "
        "--test installs osslsigncode)");
    return;
  }
  test::TempDir d;
  make_db_key(d, "db");
  // osslsigncode signs the 252 stub (83297 bytes: padded to 8 first) with sha384.
  auto s = test::run({"osslsigncode", "sign", "-certs", "db.crt", "-key", "db.key", "-h", "sha384",
                      "-time", "1700000000", "-in", stub252().string(), "-out", "o.efi"},
                     {}, d.path());
  INFO(s.out << s.err);
  REQUIRE(s.exit_code == 0);
  auto v = test::run({"osslsigncode", "verify", "-CAfile", "db.crt", "-in", "o.efi"}, {}, d.path());
  std::string want =
      to_hex(authenticode_signed_digest(read_file(stub252()), "stub", HashAlg::kSha384));
  for (auto& c : want) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(v.out.find("Calculated message digest : " + want) != std::string::npos);
  CHECK(v.out.find("Current message digest    : " + want) != std::string::npos);
  // And our verifier reads osslsigncode's signature.
  const auto sigs = verify_pe_signatures(read_file(d / "o.efi"), "o.efi", read_file(d / "db.crt"));
  REQUIRE(sigs.size() == 1);
  CHECK(sigs[0].digest_algorithm == "sha384");
  CHECK(sigs[0].digest_matches);
  CHECK(sigs[0].signature_valid);
  CHECK(sigs[0].chain_trusted);
}
