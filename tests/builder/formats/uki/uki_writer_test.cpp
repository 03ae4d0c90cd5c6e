// The UKI writer against ukify 257 (Debian 13's systemd-ukify, run with
// Debian 12's python3-pefile; scripts/fetch-ukify): byte-identical output for
// the Debian 12 (252) and Debian 13 (257) stubs over a matrix of section sets,
// synthetic stubs that need ukify's fix-ups, grown headers where ukify gives
// up, and exact errors.
#include <catch2/catch.hpp>

#include <fstream>

#include "base/error.h"
#include "base/file.h"
#include "builder/formats/pe/image.h"
#include "builder/formats/uki/sections.h"
#include "builder/formats/uki/writer.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

fs::path stub252() {
  return test::source_dir() /
         ".cache/debian/root/systemd-boot-efi/usr/lib/systemd/boot/efi/linuxx64.efi.stub";
}
fs::path stub257() {
  return test::source_dir() / ".cache/ukify/root/usr/lib/systemd/boot/efi/linuxx64.efi.stub";
}
fs::path ukify() { return test::source_dir() / ".cache/ukify/root/usr/lib/systemd/ukify"; }

bool have_ukify() {
  if (!fs::exists(ukify()) || !fs::exists(stub257()) || !fs::exists(stub252())) {
    test::skip_or_fail(
        "ukify 257 or a stub is missing (scripts/fetch-ukify, scripts/fetch-debian-inputs: both "
        "need apt-get download)");
    return false;
  }
  if (test::run({"/usr/bin/python3", "-c", "import pefile"}).exit_code != 0) {
    test::skip_or_fail(
        "/usr/bin/python3 has no pefile (scripts/install-deps --test installs python3-pefile)");
    return false;
  }
  return true;
}

void write_bytes(const fs::path& p, const Bytes& b) { write_file(p, b); }

// Runs ukify and mkguest with the same arguments and compares the outputs.
// (ukify takes .osrel from the build host's /etc/os-release unless
// --os-release is given; mkguest never does, so every set passes it.)
void compare(const test::TempDir& d, const std::string& tag, const fs::path& stub,
             const std::vector<std::string>& args) {
  INFO(tag);
  std::vector<std::string> u{"/usr/bin/python3", ukify().string(), "build",
                             "--stub=" + stub.string(),
                             "--output=" + (d / (tag + ".ref")).string()};
  std::vector<std::string> m{"uki",         "build", "--stub",
                             stub.string(), "-o",    (d / (tag + ".efi")).string()};
  for (const auto& a : args) {
    u.push_back(a);
    m.push_back(a);
  }
  auto r = test::run(u, {}, d.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto o = test::run_mkguest(m, {}, d.path());
  INFO(o.err);
  REQUIRE(o.exit_code == 0);
  CHECK(test::sha256_file(d / (tag + ".ref")) == test::sha256_file(d / (tag + ".efi")));
}

}  // namespace

TEST_CASE("UKIs are byte-identical to ukify 257's with the 252 and 257 stubs", "[uki]") {
  if (!have_ukify()) return;
  test::TempDir d;
  const std::string kernel = (test::source_dir() / ".cache/debian/vmlinuz").string();
  test::write_text(d / "osrel", "ID=debian\nVERSION_ID=12\nPRETTY_NAME=\"mkguest test\"\n");
  test::write_text(d / "cmdline", "console=ttyS0  root=/dev/vda\n");
  test::write_text(d / "sbat",
                   "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/"
                   "blob/main/SBAT.md\nmkguest,1,mkguest,mkguest,1,https://example.org\n");
  Bytes a(70001), b(4097);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = static_cast<std::uint8_t>(i * 7);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i * 13 + 1);
  write_bytes(d / "initrd1", a);
  write_bytes(d / "initrd2", b);
  write_bytes(d / "splash.bmp", Bytes(1234, 0x42));
  write_bytes(d / "board.dtb", Bytes(999, 0xd0));
  test::write_text(d / "extra", "extra section\n");
  test::write_text(d / "toy-linux", "not a PE kernel");
  const std::vector<std::pair<std::string, std::vector<std::string>>> sets = {
      {"full",
       {"--linux=" + kernel, "--initrd=initrd1", "--cmdline= console=ttyS0\t quiet ",
        "--os-release=@osrel", "--uname=6.1.0-test"}},
      {"scraped-uname", {"--linux=" + kernel, "--cmdline=@cmdline", "--os-release="}},
      {"two-initrds",
       {"--linux=" + kernel, "--initrd=initrd1", "--initrd=initrd2", "--os-release=ID=x",
        "--sbat=@sbat"}},
      {"splash-dtb-extra",
       {"--linux=" + kernel, "--splash=splash.bmp", "--devicetree=board.dtb",
        "--section=.extra:@extra", "--uname=u", "--os-release="}},
      {"toy-kernel",
       {"--linux=toy-linux", "--initrd=initrd2", "--cmdline=x", "--uname=1", "--os-release="}},
      // Empty values written with '=' (README "Usage"), as ukify's argparse reads them.
      {"empty-values", {"--linux=" + kernel, "--cmdline=", "--os-release="}},
  };
  for (const auto& [name, args] : sets) {
    compare(d, name + "-252", stub252(), args);
    compare(d, name + "-257", stub257(), args);
  }
  // The output parses, and objdump (binutils) agrees on the section table.
  const Bytes full = read_file(d / "full-252.efi");
  const pe::PeImage p = pe::parse_pe_image(full, "full-252.efi");
  REQUIRE(p.find(".linux") != nullptr);
  CHECK(p.find(".linux")->characteristics == 0x40000020);
  CHECK(p.find(".osrel")->characteristics == 0x40000040);
  CHECK(p.checksum == 0);
  if (test::have_tool("objdump"))
    CHECK(test::run({"objdump", "-h", (d / "full-252.efi").string()}).exit_code == 0);
}

TEST_CASE("where ukify runs out of header space, the headers grow", "[uki]") {
  if (!fs::exists(stub252())) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return;
  }
  test::TempDir d;
  test::write_text(d / "k", "kernel");
  std::vector<std::string> args{"--linux=k", "--cmdline=a", "--os-release=ID=t", "--uname=u"};
  for (int i = 0; i < 8; ++i) args.push_back("--section=.x" + std::to_string(i) + ":data");
  std::vector<std::string> strict{"uki", "build", "--stub",           stub252().string(),
                                  "-o",  "s.efi", "--no-grow-headers"};
  strict.insert(strict.end(), args.begin(), args.end());
  auto s = test::run_mkguest(strict, {}, d.path());
  CHECK(s.exit_code == 2);
  CHECK(s.err.find("error: Not enough header space to add section .x3 (SizeOfHeaders 0x400)") !=
        std::string::npos);
  CHECK(!fs::exists(d / "s.efi"));
  if (have_ukify()) {
    std::vector<std::string> u{"/usr/bin/python3", ukify().string(), "build",
                               "--stub=" + stub252().string(), "--output=u.efi"};
    u.insert(u.end(), args.begin(), args.end());
    auto r = test::run(u, {}, d.path());
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("Not enough header space to add section .x3.") != std::string::npos);
  }
  std::vector<std::string> grow{"uki", "build", "--stub", stub252().string(), "-o", "g.efi"};
  grow.insert(grow.end(), args.begin(), args.end());
  auto g = test::run_mkguest(grow, {}, d.path());
  INFO(g.err);
  REQUIRE(g.exit_code == 0);
  CHECK(g.out.find("Headers: grown from 0x400 to 0x600 bytes") != std::string::npos);
  const Bytes out = read_file(d / "g.efi");
  const pe::PeImage p = pe::parse_pe_image(out, "g.efi");
  CHECK(p.size_of_headers == 0x600);
  CHECK(p.sections.size() == 8 + 12);  // .sbat is rewritten in place
  // Every stub section moved by 0x200 in the file and kept its RVA and bytes.
  const Bytes stub = read_file(stub252());
  const pe::PeImage sp = pe::parse_pe_image(stub, "stub");
  for (std::size_t i = 0; i < sp.sections.size(); ++i) {
    INFO(sp.sections[i].name);
    CHECK(p.sections[i].virtual_address == sp.sections[i].virtual_address);
    CHECK(p.sections[i].raw_pointer == sp.sections[i].raw_pointer + 0x200);
    if (sp.sections[i].name != ".sbat") {
      const auto x = pe::section_data(stub, sp.sections[i]);
      const auto y = pe::section_data(out, p.sections[i]);
      CHECK(std::equal(x.begin(), x.end(), y.begin(), y.end()));
    }
  }
  CHECK(std::string(pe::section_data(out, *p.find(".x7")).begin(),
                    pe::section_data(out, *p.find(".x7")).end()) == "data");
  if (test::have_tool("objdump"))
    CHECK(test::run({"objdump", "-h", (d / "g.efi").string()}).exit_code == 0);
}

TEST_CASE("UKI writer errors", "[uki]") {
  if (!fs::exists(stub252())) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return;
  }
  test::TempDir d;
  test::write_text(d / "k", "kernel");
  auto bad = test::run_mkguest({"uki", "build", "--stub", stub252().string(), "--linux=k",
                                "--section=.toolongname:x", "-o", "o.efi"},
                               {}, d.path());
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("section name '.toolongname': it must be 1 to 8 printable ASCII") !=
        std::string::npos);
  auto notpe = test::run_mkguest({"uki", "build", "--stub", "k", "-o", "o.efi"}, {}, d.path());
  CHECK(notpe.exit_code == 2);
  CHECK(notpe.err.find("k:0x0: error: not a PE image") != std::string::npos);
  // A stub with a certificate table is refused, as ukify refuses it.
  Bytes stub = read_file(stub252());
  const pe::PeImage p = pe::parse_pe_image(stub, "stub");
  const std::size_t cert = p.certificate_directory()->offset;
  const std::uint32_t at = (static_cast<std::uint32_t>(stub.size()) & ~7u) - 8;
  for (int i = 0; i < 4; ++i) stub[cert + i] = (at >> (8 * i)) & 0xff;
  stub[cert + 4] = 8;
  write_bytes(d / "signed.stub", stub);
  auto s = test::run_mkguest({"uki", "build", "--stub", "signed.stub", "--linux=k", "-o", "o.efi"},
                             {}, d.path());
  CHECK(s.exit_code == 2);
  CHECK(s.err.find("signed.stub:" + hex_offset(cert) +
                   ": error: the stub is signed (it has a certificate table)") !=
        std::string::npos);
  CHECK(!fs::exists(d / "o.efi"));
}

TEST_CASE("ukify's section rules: cmdline, sbat, uname, stub version", "[uki]") {
  CHECK(normalize_cmdline("  a \t b\n c  ") == "a b c");
  CHECK(normalize_cmdline("") == "");
  std::vector<std::string> notes;
  static const char kWant[] =
      "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"
      "foo,1\nbar,2\n";
  CHECK(merge_sbat({}, {"sbat,1,x\nfoo,1\r\nbar,2\n", "nope\nbaz,3\n"}, &notes) ==
        std::string(kWant, sizeof kWant));
  CHECK(notes.size() == 1);
  if (fs::exists(stub252())) {
    const Bytes s = read_file(stub252());
    CHECK(stub_version(s, "stub").rfind("252.", 0) == 0);
    const Bytes k = read_file(test::source_dir() / ".cache/debian/vmlinuz");
    const auto u = scrape_uname_x86(k);
    REQUIRE(u);
    CHECK(u->find("cloud-amd64") != std::string::npos);
  }
  CHECK(!scrape_uname_x86(Bytes(100, 0)));
}

TEST_CASE("outputs.uki: the build's UKI is ukify's UKI of the built kernel, initrd and cmdline",
          "[uki][examples]") {
  if (!have_ukify()) return;
  test::TempDir d;
  const std::string stub = stub252().string();
  test::write_text(d / "init", "#!/bin/sh\n");
  test::write_text(d / "os-release", "ID=test\n");
  test::write_text(d / "recipe.yaml", "name: uki-demo\nkernel: " +
                                          (test::source_dir() / ".cache/debian/vmlinuz").string() +
                                          "\ncmdline: [console=ttyS0, \"name=${name}\"]\n"
                                          "initrd:\n  files: [{src: init, dst: /init}]\n"
                                          "outputs:\n  direct: false\n  uki:\n    stub: " +
                                          stub + "\n    os_release: os-release\n");
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  CHECK(!fs::exists(d / "out/kernel"));
  auto r = test::run(
      {"/usr/bin/python3", ukify().string(), "build", "--stub=" + stub,
       "--linux=" + (test::source_dir() / ".cache/debian/vmlinuz").string(), "--initrd=out/initrd",
       "--cmdline=@out/cmdline", "--os-release=@os-release", "--output=ref.efi"},
      {}, d.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(test::sha256_file(d / "ref.efi") == test::sha256_file(d / "out/uki.efi"));
  const std::string m = test::read_text(d / "out/manifest.json");
  CHECK(m.find("\"version\": \"252.") != std::string::npos);
  CHECK(m.find("\"name\": \".cmdline\"") != std::string::npos);
}
