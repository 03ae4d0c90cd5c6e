// `mkguest inspect`: a built UKI's sections, texts and predicted PCRs equal
// what the build's manifest says; signatures are reported and a broken one
// makes it exit 1; malformed input exits 2 with the offset.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;
using nlohmann::json;

TEST_CASE("inspect agrees with the build's manifest and reports signatures", "[uki][inspect]") {
  const fs::path stub = test::source_dir() /
                        ".cache/debian/root/systemd-boot-efi/usr/lib/systemd/boot/efi/"
                        "linuxx64.efi.stub";
  if (!fs::exists(stub)) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return;
  }
  test::TempDir d;
  test::write_text(d / "linux", "toy kernel");
  test::write_text(d / "init", "#!/bin/sh\n");
  test::write_text(d / "os-release", "ID=inspect\n");
  test::write_text(d / "recipe.yaml",
                   "name: inspect\nkernel: linux\ncmdline: [console=ttyS0, quiet]\n"
                   "initrd:\n  files: [{src: init, dst: /init}]\noutputs:\n  uki:\n    stub: " +
                       stub.string() + "\n    os_release: os-release\n    uname: 6.1.0-x\n");
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path()).exit_code ==
          0);
  auto r = test::run_mkguest({"inspect", "out/uki.efi", "--json"}, {}, d.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);
  const json m = json::parse(test::read_text(d / "out/manifest.json"));
  CHECK(j["text"][".cmdline"] == "console=ttyS0 quiet");
  CHECK(j["text"][".osrel"] == "ID=inspect\n");
  CHECK(j["text"][".uname"] == "6.1.0-x");
  CHECK(j["sections"] == m["uki"]["sections"]);
  CHECK(j["authenticode"] == m["uki"]["authenticode"]);
  CHECK(j["pcr11"] == m["measurements"]["tpm"]["pcr11"]);
  CHECK(j["pcr4"] == m["measurements"]["tpm"]["pcr4"]);
  CHECK(j["signatures"].empty());
  auto text = test::run_mkguest({"inspect", "out/uki.efi"}, {}, d.path());
  CHECK(text.out.find("  .osrel: ID=inspect") != std::string::npos);
  CHECK(text.out.find("not signed") != std::string::npos);

  if (test::have_tool("openssl")) {
    REQUIRE(test::run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                       "db.key", "-out", "db.crt", "-subj", "/CN=inspect db", "-days", "30"},
                      {}, d.path())
                .exit_code == 0);
    REQUIRE(test::run_mkguest({"uki", "sign", "out/uki.efi", "--secureboot-private-key=db.key",
                               "--secureboot-certificate=db.crt", "-o", "signed.efi"},
                              {}, d.path())
                .exit_code == 0);
    auto s = test::run_mkguest({"inspect", "signed.efi", "--ca", "db.crt"}, {}, d.path());
    CHECK(s.exit_code == 0);
    CHECK(s.out.find("signature by /CN=inspect db (sha256): verifies") != std::string::npos);
    Bytes b = read_file(d / "signed.efi");
    b[b.size() / 3] ^= 0x20;
    write_file(d / "broken.efi", b);
    auto x = test::run_mkguest({"inspect", "broken.efi"}, {}, d.path());
    CHECK(x.exit_code == 1);
    CHECK(x.out.find("DOES NOT VERIFY") != std::string::npos);
  }
  test::write_text(d / "junk.efi", "MZ" + std::string(100, 'x'));
  auto junk = test::run_mkguest({"inspect", "junk.efi"}, {}, d.path());
  CHECK(junk.exit_code == 2);
  CHECK(junk.err.find("junk.efi:0x78787878: error: PE signature and COFF header") !=
        std::string::npos);
}

TEST_CASE("verify re-derives the UKI's record and PCRs and names what differs", "[uki][verify]") {
  const fs::path stub = test::source_dir() /
                        ".cache/debian/root/systemd-boot-efi/usr/lib/systemd/boot/efi/"
                        "linuxx64.efi.stub";
  if (!fs::exists(stub)) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return;
  }
  test::TempDir d;
  test::write_text(d / "linux", "toy kernel");
  test::write_text(d / "init", "#!/bin/sh\n");
  test::write_text(d / "recipe.yaml",
                   "name: v\nkernel: linux\ncmdline: console=ttyS0\n"
                   "initrd:\n  files: [{src: init, dst: /init}]\n"
                   "outputs:\n  uki:\n    stub: " +
                       stub.string() + "\n");
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path()).exit_code ==
          0);
  auto ok = test::run_mkguest({"verify", "out"}, {}, d.path());
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("checks: outputs, uki)") != std::string::npos);
  // An edited prediction is named.
  json m = json::parse(test::read_text(d / "out/manifest.json"));
  std::string& v = m["measurements"]["tpm"]["pcr11"]["sha384"][2]["value"].get_ref<std::string&>();
  v[5] = v[5] == 'a' ? 'b' : 'a';
  test::write_text(d / "edited.json", m.dump(2));
  auto e = test::run_mkguest({"verify", "out", "--manifest", "edited.json"}, {}, d.path());
  CHECK(e.exit_code == 1);
  CHECK(e.out.find("DIFFERENT uki: measurements.tpm.pcr11: differs from the values derived from "
                   "uki.efi") != std::string::npos);
  // A changed byte in .cmdline is named by the outputs check and the section record.
  Bytes u = read_file(d / "out/uki.efi");
  const auto& cmd = m["uki"]["sections"];
  std::uint64_t off = 0;
  for (const auto& s : cmd)
    if (s["name"] == ".cmdline") off = s["offset"];
  REQUIRE(off != 0);
  u[off] ^= 1;
  write_file(d / "out/uki.efi", u);
  auto c = test::run_mkguest({"verify", "out"}, {}, d.path());
  CHECK(c.exit_code == 1);
  CHECK(c.out.find("DIFFERENT uki: uki.efi .cmdline: differs from the manifest's section record") !=
        std::string::npos);
  CHECK(c.out.find("DIFFERENT outputs: uki.efi") != std::string::npos);
}
