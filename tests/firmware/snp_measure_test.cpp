// SEV/SEV-ES/SEV-SNP launch digests: `mkguest measure snp` prints what
// sev-snp-measure 0.0.13 prints (tests/vectors/snp.txt), the intermediate
// values match the reference tool's, and malformed firmware is rejected with
// the offset.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "base/error.h"
#include "firmware/snp_measure.h"
#include "tests/snp_fixtures.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_args(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w == "@C" ? "console=ttyS0 root=/dev/vda1 ro" : w);
  return out;
}

std::string trim(const std::string& s) {
  auto a = s.find_first_not_of(' ');
  auto b = s.find_last_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

}  // namespace

TEST_CASE("measure snp prints exactly what sev-snp-measure 0.0.13 prints", "[snp]") {
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  // Debian's OVMF, when scripts/fetch-debian-inputs has fetched the same version.
  std::map<std::string, std::string> want_sha;
  std::ifstream f(test::source_dir() / "tests/vectors/snp.txt");
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(f, line)) {
    if (line.rfind("#   deb12_", 0) == 0) {
      std::istringstream in(line.substr(4));
      std::string name, sha_word, sha;
      in >> name >> sha_word >> sha;
      want_sha[name] = sha;
    } else if (!line.empty() && line[0] != '#') {
      lines.push_back(line);
    }
  }
  REQUIRE(lines.size() > 300);
  bool have_debian = true;
  for (const auto& [name, sha] : want_sha) {
    fs::path src = test::source_dir() / ".cache/debian/OVMF" / name.substr(6);
    if (!fs::exists(src) || test::sha256_file(src) != sha) {
      have_debian = false;
      continue;
    }
    fs::copy_file(src, d / name);
  }
  if (!have_debian) test::skip_or_fail("the Debian OVMF vectors: run scripts/fetch-debian-inputs");
  int checked = 0;
  for (const auto& raw : lines) {
    bool differs = raw.rfind("! mkguest: ", 0) == 0;
    std::string l = differs ? raw.substr(11) : raw;
    auto p1 = l.find(" | ");
    auto p2 = l.find(" | ", p1 + 3);
    std::string args = l.substr(0, p1);
    int rc = std::stoi(l.substr(p1 + 3, p2 - p1 - 3));
    std::string out = trim(l.substr(p2 + 3));
    if (args.find("deb12_") != std::string::npos && !have_debian) continue;
    std::vector<std::string> argv{"measure", "snp"};
    for (auto& a : split_args(args)) argv.push_back(a);
    auto r = test::run_mkguest(argv, {}, d.path());
    INFO(args);
    if (differs) {
      // sev-snp-measure measures firmware QEMU would refuse; mkguest rejects it.
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("has no SEV metadata") != std::string::npos);
    } else if (rc == 0) {
      CHECK(r.exit_code == 0);
      CHECK(trim(r.out.substr(0, r.out.find('\n'))) == out);
    } else {
      // The reference tool's RuntimeError: mkguest exits 2 (bad input) with its own text.
      CHECK(r.exit_code == 2);
      CHECK((r.err.find("SNP_KERNEL_HASHES") != std::string::npos ||
             r.err.find("no SEV metadata") != std::string::npos));
    }
    ++checked;
  }
  CHECK(checked >= (have_debian ? 300 : 270));
}

TEST_CASE("intermediate values match the reference tool's", "[snp]") {
  // spec docs/specs/snp.md §4: VMSA digests for signature 0x800f12, features 0x1, AP EIP 0x80b004.
  auto h = [](const Bytes& b) { return to_hex(digest(HashAlg::kSha384, b)); };
  CHECK(h(snp_vmsa(0xfffffff0, 1, 0x800f12, VmmType::kQemu)).substr(0, 16) == "77920c4c629ff47e");
  CHECK(h(snp_vmsa(0x80b004, 1, 0x800f12, VmmType::kQemu)).substr(0, 16) == "8413b852790765a3");
  CHECK(h(snp_vmsa(0xfffffff0, 1, 0x800f12, VmmType::kEc2)).substr(0, 16) == "d08442e8bcdb6a5d");
  CHECK(h(snp_vmsa(0x80b004, 1, 0x800f12, VmmType::kEc2)).substr(0, 16) == "acff2d22db95b8eb");
  CHECK(h(snp_vmsa(0xfffffff0, 1, 0x800f12, VmmType::kGce)).substr(0, 16) == "f9e03177dad7f481");
  CHECK(h(snp_vmsa(0x80b004, 1, 0x800f12, VmmType::kGce)).substr(0, 16) == "5302d262c88780a7");
  std::string k(1048576 + 123, '\0');
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<char>(i % 251);
  std::string rd(300000, '\0');
  for (std::size_t i = 0; i < rd.size(); ++i) rd[i] = static_cast<char>((i * 7 + 3) & 0xff);
  Bytes table =
      sev_hashes_table(sev_hashes(as_bytes(k), as_bytes(rd), "console=ttyS0 root=/dev/vda1 ro"));
  REQUIRE(table.size() == 176);
  CHECK(to_hex(table).substr(0, 36) == "06d63894224fc94cb479a793d411fd21a800");
  CHECK(to_hex(table).substr(36, 36) == "d82dd09720bd944caa78e7714d36ab2a3200");
  CHECK(snp_cpu_signature(25, 17, 0) == 0xa10f10);
  CHECK(snp_cpu_signature(26, 0, 0) == 0xb00f00);
  CHECK(snp_cpu_signature(23, 49, 0) == 0x830f10);
}

TEST_CASE("malformed firmware is rejected with the offset", "[snp]") {
  auto parse = [](const Bytes& b) {
    ByteReader r(b, "OVMF.fd");
    return parse_sev_firmware(r);
  };
  auto err = [&](const Bytes& b) -> std::string {
    try {
      parse(b);
    } catch (const InputError& e) {
      return e.what();
    }
    return "(no error)";
  };
  Bytes good = test::synth_ovmf(1 << 20, test::amdsev_sections());
  REQUIRE(parse(good).sections.size() == 7);
  CHECK(err(Bytes(good.begin(), good.end() - 1)) ==
        "OVMF.fd:0x0: error: firmware size 1048575 is not a non-zero multiple of 4096 bytes");
  // An unknown section type in the third descriptor.
  Bytes bad_type = good;
  std::size_t meta = bad_type.size() - 0x1000;
  bad_type[meta + 16 + 2 * 12 + 8] = 7;
  CHECK(err(bad_type) == "OVMF.fd:0xff030: error: unknown SEV metadata section type 0x7");
  // A count that overflows the metadata length.
  Bytes big_count = good;
  big_count[meta + 12] = 0xff;
  big_count[meta + 13] = 0xff;
  big_count[meta + 14] = 0xff;
  big_count[meta + 15] = 0xff;
  CHECK(err(big_count) ==
        "OVMF.fd:0xff00c: error: SEV metadata declares 4294967295 sections, more than its length "
        "100 holds");
  // A metadata offset beyond the start of the file.
  Bytes far = test::synth_ovmf(1 << 20, test::amdsev_sections());
  std::size_t footer = far.size() - 50;
  // The last entry before the footer is the metadata offset: its 4 data bytes.
  std::size_t data = footer - 18 - 4;
  far[data + 3] = 0x7f;
  CHECK(err(far) ==
        "OVMF.fd:0xfffb8: error: SEV metadata offset 0x7f001000 points before the "
        "start of the file");
  // A footer table length running before the start of the file.
  Bytes tiny(4096, 0);
  Bytes ft = test::synth_ovmf(4096 * 2, {});
  std::copy(ft.end() - 4096, ft.end(), tiny.begin());
  tiny[4096 - 50] = 0xff;
  tiny[4096 - 49] = 0xff;
  CHECK(err(tiny) ==
        "OVMF.fd:0xfce: error: OVMF footer table length 65535 runs before the start of the file");
  // A table entry whose length is under 18 bytes.
  Bytes short_entry = good;
  short_entry[footer - 18] = 3;
  short_entry[footer - 17] = 0;
  CHECK(err(short_entry) == "OVMF.fd:0xfffbc: error: OVMF table entry length 3 is shorter than 18");
}

TEST_CASE("SNP refuses firmware without SEV metadata, the reference tool does not", "[snp]") {
  Bytes no_meta = test::synth_ovmf(1 << 20, test::amdsev_sections(), /*with_meta=*/false);
  ByteReader r(no_meta, "plain.fd");
  SevFirmware fw = parse_sev_firmware(r);
  SnpInputs in;
  in.vcpu_sig = 0x800f12;
  CHECK_THROWS_WITH(snp_launch_digest(no_meta, fw, in, "plain.fd"),
                    "plain.fd: error: this firmware has no SEV metadata (no 'ASEV' table entry); "
                    "QEMU refuses to launch it as an SEV-SNP guest");
}
