// The signed PCR policy of a UKI (.pcrsig, .pcrpkey) against systemd-measure
// 252 `sign`, which needs a TPM: it runs against swtpm here. The same key and
// sections give the same pol, sig and pkfp; the embedded JSON is formatted as
// ukify's json.dumps formats it.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "base/file.h"
#include "builder/formats/pe/image.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

TEST_CASE(".pcrsig equals systemd-measure sign's for the same key", "[pcr][uki]") {
  const fs::path stub = test::source_dir() /
                        ".cache/debian/root/systemd-boot-efi/usr/lib/systemd/boot/efi/"
                        "linuxx64.efi.stub";
  if (!fs::exists(stub) || !test::have_tool("swtpm") ||
      !fs::exists("/usr/lib/systemd/systemd-measure") ||
      !fs::exists("/usr/lib/x86_64-linux-gnu/libtss2-esys.so.0") ||
      !fs::exists("/usr/lib/x86_64-linux-gnu/libtss2-tcti-swtpm.so.0")) {
    test::skip_or_fail(
        "the stub, swtpm, systemd-measure or libtss2 (esys, tcti-swtpm) is missing "
        "(scripts/install-deps --test installs systemd-boot-efi, swtpm, systemd, "
        "libtss2-esys-3.0.2-0, libtss2-tcti-swtpm0)");
    return;
  }
  test::TempDir d;
  fs::create_directories(d / "tpm");
  REQUIRE(test::run({"openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                     "-out", "pcr.key"},
                    {}, d.path())
              .exit_code == 0);
  ::chmod((d / "pcr.key").c_str(), 0600);
  REQUIRE(
      test::run({"openssl", "pkey", "-in", "pcr.key", "-pubout", "-out", "pcr.pub"}, {}, d.path())
          .exit_code == 0);
  test::write_text(d / "linux", "kernel");
  test::write_text(d / "osrel", "ID=test\n");
  test::write_text(d / "cmdline", "console=ttyS0");
  test::write_text(d / "initrd", "initrd");
  // mkguest: the UKI with the signed policy (the 252 stub's rules).
  auto b = test::run_mkguest(
      {"uki", "build", "--stub", stub.string(), "--linux=linux", "--os-release=@osrel",
       "--cmdline=@cmdline", "--initrd=initrd", "--uname=6.1.0-test", "--pcr-private-key=pcr.key",
       "--pcr-public-key=pcr.pub", "--pcr-banks=sha256", "--pcr-banks=SHA1",
       "--phases=enter-initrd enter-initrd:leave-initrd:sysinit", "-o", "uki.efi"},
      {}, d.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  const Bytes uki = read_file(d / "uki.efi");
  const pe::PeImage p = pe::parse_pe_image(uki, "uki.efi");
  REQUIRE(p.find(".pcrsig") != nullptr);
  REQUIRE(p.sections.back().name == ".pcrsig");
  const auto sig = pe::section_data(uki, *p.find(".pcrsig"));
  const std::string ours(sig.begin(), sig.end());
  const auto key = pe::section_data(uki, *p.find(".pcrpkey"));
  CHECK(std::string(key.begin(), key.end()) == test::read_text(d / "pcr.pub"));

  // systemd-measure 252 sign against a software TPM.
  const int port = 20000 + static_cast<int>(::getpid() % 20000);
  const pid_t tpm = ::fork();
  if (tpm == 0) {
    ::execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate",
             ("dir=" + (d / "tpm").string()).c_str(), "--server",
             ("type=tcp,port=" + std::to_string(port) + ",bindaddr=127.0.0.1").c_str(), "--ctrl",
             ("type=tcp,port=" + std::to_string(port + 1) + ",bindaddr=127.0.0.1").c_str(),
             "--flags", "not-need-init,startup-clear", static_cast<char*>(nullptr));
    _exit(127);
  }
  test::RunResult r;
  for (int attempt = 0; attempt < 50; ++attempt) {
    r = test::run(
        {"/usr/lib/systemd/systemd-measure", "sign", "--linux=linux", "--osrel=osrel",
         "--cmdline=cmdline", "--initrd=initrd", "--pcrpkey=pcr.pub", "--bank=sha1",
         "--bank=sha256", "--phase=enter-initrd", "--phase=enter-initrd:leave-initrd:sysinit",
         "--private-key=pcr.key", "--public-key=pcr.pub",
         "--tpm2-device=swtpm:host=127.0.0.1,port=" + std::to_string(port)},
        {}, d.path());
    if (r.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(tpm, SIGTERM);
  ::waitpid(tpm, nullptr, 0);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto theirs = nlohmann::json::parse(r.out);
  const auto mine = nlohmann::json::parse(ours);
  CHECK(mine == theirs);
  CHECK(mine["sha256"].size() == 2);
  // ukify embeds json.dumps() of it: ", " and ": " separators, keys in order.
  const std::string redump = theirs.dump();
  CHECK(ours.find("{\"sha1\": [{\"pcrs\": [11], \"pkfp\": \"") == 0);
  CHECK(redump.find("\"pcrs\":[11]") != std::string::npos);
  // A public key that is not the private key's is refused.
  REQUIRE(test::run({"openssl", "genpkey", "-algorithm", "RSA", "-out", "other.key"}, {}, d.path())
              .exit_code == 0);
  REQUIRE(test::run({"openssl", "pkey", "-in", "other.key", "-pubout", "-out", "other.pub"}, {},
                    d.path())
              .exit_code == 0);
  auto bad = test::run_mkguest(
      {"uki", "build", "--stub", stub.string(), "--linux=linux",
       "--os-release=", "--pcr-private-key=pcr.key", "--pcr-public-key=other.pub", "-o", "bad.efi"},
      {}, d.path());
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("other.pub: error: this public key is not the PCR private key's") !=
        std::string::npos);
}

TEST_CASE("outputs.uki.pcr_signature gives the UKI `uki build --pcr-private-key` gives",
          "[pcr][uki]") {
  const fs::path stub = test::source_dir() /
                        ".cache/debian/root/systemd-boot-efi/usr/lib/systemd/boot/efi/"
                        "linuxx64.efi.stub";
  if (!fs::exists(stub)) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first");
    return;
  }
  test::TempDir d;
  REQUIRE(test::run({"openssl", "genpkey", "-algorithm", "RSA", "-out", "pcr.key"}, {}, d.path())
              .exit_code == 0);
  ::chmod((d / "pcr.key").c_str(), 0600);
  REQUIRE(
      test::run({"openssl", "pkey", "-in", "pcr.key", "-pubout", "-out", "pcr.pub"}, {}, d.path())
          .exit_code == 0);
  test::write_text(d / "linux", "kernel");
  test::write_text(d / "os-release", "ID=test\n");
  test::write_text(d / "recipe.yaml",
                   "name: pcrsig\nkernel: linux\ncmdline: console=ttyS0\noutputs:\n  direct: "
                   "false\n  uki:\n    stub: " +
                       stub.string() +
                       "\n    os_release: os-release\n    pcr_signature: {private_key: pcr.key, "
                       "public_key: pcr.pub, banks: [sha256], phases: [enter-initrd]}\n");
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  auto c = test::run_mkguest(
      {"uki", "build", "--stub", stub.string(), "--linux=linux", "--cmdline=@out/cmdline",
       "--os-release=@os-release", "--pcr-private-key=pcr.key", "--pcr-public-key=pcr.pub",
       "--pcr-banks=sha256", "--phases=enter-initrd", "-o", "cli.efi"},
      {}, d.path());
  REQUIRE(c.exit_code == 0);
  CHECK(test::sha256_file(d / "out/uki.efi") == test::sha256_file(d / "cli.efi"));
  CHECK(test::read_text(d / "out/manifest.json").find("uki-pcr-public-key") != std::string::npos);
  // The private key given as public_key is refused, not embedded in .pcrpkey.
  auto p = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out2", "--set",
                              "outputs.uki.pcr_signature.public_key=pcr.key"},
                             {}, d.path());
  CHECK(p.exit_code == 2);
  CHECK_THAT(p.err, Catch::Contains("pcr.key: error: holds a PEM private key"));
  CHECK_FALSE(fs::exists(d / "out2"));
}
