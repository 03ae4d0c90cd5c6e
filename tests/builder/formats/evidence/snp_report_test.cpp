// The SEV-SNP attestation report reader against reports built by an
// independent Python model of the ABI table (snp_report_model.py), and against
// two real reports from Trustee's test data (tests/vectors/snp_report/README.md)
// whose signatures openssl verifies over the bytes the reader says are signed.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "base/encoding.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/formats/evidence/snp_report.h"
#include "tests/test_util.h"

namespace mkguest {
namespace {

namespace fs = std::filesystem;
using evidence::parse_snp_report;

fs::path model() {
  return test::source_dir() / "tests/builder/formats/evidence/snp_report_model.py";
}
fs::path vectors() { return test::source_dir() / "tests/vectors/snp_report"; }

// The report the model builds from `fields` (a JSON object's body).
Bytes model_report(const test::TempDir& dir, const std::string& fields) {
  test::write_text(dir / "fields.json", "{" + fields + "}");
  const auto r = test::run({"/usr/bin/python3", model().string(), (dir / "fields.json").string(),
                            (dir / "report.bin").string()});
  REQUIRE(r.exit_code == 0);
  return read_file(dir / "report.bin");
}

std::string pattern(std::size_t n, unsigned seed) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned>((i * 7 + seed) & 0xff));
    s += b;
  }
  return s;
}

// The place ("0x...") of the error parsing `bytes` raises.
std::string error_place(const Bytes& bytes) {
  try {
    parse_snp_report(bytes, "r.bin");
  } catch (const InputError& e) {
    CHECK(e.source() == "r.bin");
    return e.place();
  }
  return "no error";
}

const std::string kV3 = R"("version": 3, "guest_svn": 7, "policy": "0x30000", "vmpl": 2,
  "signature_algo": 1, "current_tcb": "0xdb18000000000004", "platform_info": "0x25",
  "author_key_en": 1, "mask_chip_key": 1, "signing_key": 1,
  "cpuid_fam_id": 25, "cpuid_mod_id": 17, "cpuid_step": 1,
  "reported_tcb": "0xd918000000000003", "committed_tcb": "0xdb18000000000002",
  "launch_tcb": "0xdb18000000000001",
  "current_build": 21, "current_minor": 55, "current_major": 1,
  "committed_build": 20, "committed_minor": 54, "committed_major": 1,)";

std::string all_bytes_fields() {
  return "\"family_id\": \"" + pattern(16, 1) + "\", \"image_id\": \"" + pattern(16, 2) +
         "\", \"report_data\": \"" + pattern(64, 3) + "\", \"measurement\": \"" + pattern(48, 4) +
         "\", \"host_data\": \"" + pattern(32, 5) + "\", \"id_key_digest\": \"" + pattern(48, 6) +
         "\", \"author_key_digest\": \"" + pattern(48, 7) + "\", \"report_id\": \"" +
         pattern(32, 8) + "\", \"report_id_ma\": \"" + pattern(32, 9) + "\", \"chip_id\": \"" +
         pattern(64, 10) + "\", \"signature_r\": \"" + pattern(72, 11) + "\", \"signature_s\": \"" +
         pattern(72, 12) + "\"";
}

TEST_CASE("snp report: every field of a version 3 report the model built", "[evidence]") {
  test::TempDir dir;
  const auto p = parse_snp_report(model_report(dir, kV3 + all_bytes_fields()), "r.bin");
  CHECK(p.version == 3);
  CHECK(p.guest_svn == 7);
  CHECK(p.policy == 0x30000);
  CHECK(p.vmpl == 2);
  CHECK(p.signature_algo == 1);
  CHECK(p.current_tcb.raw == 0xdb18000000000004ull);
  CHECK(p.current_tcb.boot_loader == 4);
  CHECK(p.current_tcb.snp == 0x18);
  CHECK(p.current_tcb.microcode == 0xdb);
  CHECK(!p.current_tcb.fmc);
  CHECK(p.platform_info == 0x25);
  CHECK(p.author_key_en);
  CHECK(p.mask_chip_key);
  CHECK(p.signing_key == 1);
  CHECK(evidence::snp_signing_key_name(p.signing_key) == "VLEK");
  CHECK(to_hex(p.family_id) == pattern(16, 1));
  CHECK(to_hex(p.image_id) == pattern(16, 2));
  CHECK(to_hex(p.report_data) == pattern(64, 3));
  CHECK(to_hex(p.measurement) == pattern(48, 4));
  CHECK(to_hex(p.host_data) == pattern(32, 5));
  CHECK(to_hex(p.id_key_digest) == pattern(48, 6));
  CHECK(to_hex(p.author_key_digest) == pattern(48, 7));
  CHECK(to_hex(p.report_id) == pattern(32, 8));
  CHECK(to_hex(p.report_id_ma) == pattern(32, 9));
  CHECK(to_hex(p.chip_id) == pattern(64, 10));
  CHECK(to_hex(p.signature_r) == pattern(72, 11));
  CHECK(to_hex(p.signature_s) == pattern(72, 12));
  CHECK(p.reported_tcb.raw == 0xd918000000000003ull);
  CHECK(p.committed_tcb.raw == 0xdb18000000000002ull);
  CHECK(p.launch_tcb.raw == 0xdb18000000000001ull);
  CHECK(p.cpuid_fam_id == 25);
  CHECK(p.cpuid_mod_id == 17);
  CHECK(p.cpuid_step == 1);
  CHECK(p.current_build == 21);
  CHECK(p.current_minor == 55);
  CHECK(p.current_major == 1);
  CHECK(p.committed_build == 20);
  CHECK(p.committed_minor == 54);
  CHECK(p.committed_major == 1);
  CHECK(!p.launch_mit_vector);
  CHECK(p.signed_bytes.size() == 0x2A0);
}

TEST_CASE("snp report: version 5 mitigation vectors and the Turin TCB layout", "[evidence]") {
  test::TempDir dir;
  const auto p =
      parse_snp_report(model_report(dir, R"("version": 5, "signature_algo": 1, "cpuid_fam_id": 26,
        "current_tcb": "0x0700000004030201", "launch_mit_vector": "0x11",
        "current_mit_vector": "0x13")"),
                       "r.bin");
  CHECK(p.launch_mit_vector == 0x11);
  CHECK(p.current_mit_vector == 0x13);
  REQUIRE(p.current_tcb.fmc);
  CHECK(*p.current_tcb.fmc == 1);
  CHECK(p.current_tcb.boot_loader == 2);
  CHECK(p.current_tcb.tee == 3);
  CHECK(p.current_tcb.snp == 4);
  CHECK(p.current_tcb.microcode == 7);
}

TEST_CASE("snp report: reserved bytes, sizes and unknown values are refused at their offset",
          "[evidence]") {
  test::TempDir dir;
  auto with = [&](const std::string& fields) { return error_place(model_report(dir, fields)); };
  const std::string v3 = R"("version": 3, "signature_algo": 1)";
  CHECK(with(v3) == "no error");
  CHECK(with(v3 + R"(, "poke": [[76, 1]])") == "0x4c");
  CHECK(with(v3 + R"(, "poke": [[395, 1]])") == "0x18b");
  CHECK(with(v3 + R"(, "poke": [[415, 1]])") == "0x19f");
  CHECK(with(v3 + R"(, "poke": [[491, 1]])") == "0x1eb");
  CHECK(with(v3 + R"(, "poke": [[495, 1]])") == "0x1ef");
  CHECK(with(v3 + R"(, "poke": [[504, 1]])") == "0x1f8");  // a v5 field in a v3 report
  CHECK(with(v3 + R"(, "poke": [[671, 1]])") == "0x29f");
  CHECK(with(v3 + R"(, "poke": [[816, 1]])") == "0x330");
  CHECK(with(v3 + R"(, "poke": [[1183, 1]])") == "0x49f");
  CHECK(with(v3 + R"(, "poke": [[72, 32]])") == "0x48");  // key-information bit 5
  CHECK(with(v3 + R"(, "signing_key": 2)") == "0x48");
  CHECK(with(R"("version": 2, "signature_algo": 1, "cpuid_fam_id": 25)") == "0x188");
  CHECK(with(R"("version": 5, "signature_algo": 1, "launch_mit_vector": 1)") == "no error");
  CHECK(with(R"("version": 5, "signature_algo": 1, "poke": [[520, 1]])") == "0x208");
  CHECK(with(R"("version": 4, "signature_algo": 1)") == "0x0");
  CHECK(with(R"("version": 3, "signature_algo": 0)") == "0x34");
  CHECK(with(R"("version": 3, "signature_algo": 1, "vmpl": 4)") == "0x30");
  CHECK(with(R"("version": 3, "signature_algo": 1, "vmpl": 4294967295)") == "no error");
  Bytes good = model_report(dir, v3);
  Bytes shorter(good.begin(), good.end() - 1);
  Bytes longer = good;
  longer.push_back(0);
  CHECK(error_place(shorter) == "0x49f");
  CHECK(error_place(longer) == "0x4a0");
  CHECK(error_place({}) == "0x0");
}

// The ECDSA signature (R, S little-endian) of a real report, checked by the
// openssl command line over the bytes the reader says are signed.
void check_real_signature(const evidence::SnpReport& p, const fs::path& cert) {
  test::TempDir dir;
  // A DER INTEGER of a little-endian magnitude.
  auto der_int = [](const Bytes& le) {
    std::size_t n = le.size();
    while (n > 1 && le[n - 1] == 0) --n;
    Bytes out;
    out.push_back(0x02);
    const bool pad = le[n - 1] & 0x80;
    out.push_back(static_cast<std::uint8_t>(n + (pad ? 1 : 0)));
    if (pad) out.push_back(0);
    for (std::size_t i = n; i-- > 0;) out.push_back(le[i]);
    return out;
  };
  Bytes body = der_int(p.signature_r);
  for (const std::uint8_t b : der_int(p.signature_s)) body.push_back(b);
  Bytes sig;
  sig.push_back(0x30);
  sig.push_back(static_cast<std::uint8_t>(body.size()));
  for (const std::uint8_t b : body) sig.push_back(b);
  write_file(dir / "sig.der", sig);
  write_file(dir / "signed.bin", p.signed_bytes);
  const auto pub = test::run({"openssl", "x509", "-inform", "der", "-in", cert.string(), "-pubkey",
                              "-noout", "-out", (dir / "pub.pem").string()});
  REQUIRE(pub.exit_code == 0);
  const auto v =
      test::run({"openssl", "dgst", "-sha384", "-verify", (dir / "pub.pem").string(), "-signature",
                 (dir / "sig.der").string(), (dir / "signed.bin").string()});
  CHECK(v.out == "Verified OK\n");
  CHECK(v.exit_code == 0);
}

TEST_CASE("snp report: a real version 2 report (Trustee test data, VCEK, Milan)", "[evidence]") {
  const auto p = parse_snp_report(read_file(vectors() / "vcek-report-v2.bin"), "v2.bin");
  CHECK(p.version == 2);
  CHECK(p.policy == 0x3001f);
  CHECK(p.vmpl == 0);
  CHECK(p.signing_key == 0);
  CHECK(!p.cpuid_fam_id);
  CHECK(to_hex(p.measurement) ==
        "a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c23500644e0e692e6be917f9050"
        "d3d38c");
  CHECK(p.reported_tcb.raw == 0x7308000000000003ull);
  CHECK(p.reported_tcb.snp == 8);
  CHECK(p.reported_tcb.microcode == 0x73);
  CHECK(p.current_major == 1);
  CHECK(p.current_minor == 0x34);
  CHECK(p.current_build == 4);
  check_real_signature(p, vectors() / "vcek.der");
}

TEST_CASE("snp report: a real version 3 report (Trustee test data, VLEK)", "[evidence]") {
  const auto p = parse_snp_report(read_file(vectors() / "vlek-report-v3.bin"), "v3.bin");
  CHECK(p.version == 3);
  CHECK(p.vmpl == 1);
  CHECK(p.signing_key == 1);
  CHECK(p.cpuid_fam_id == 0x19);
  CHECK(p.cpuid_mod_id == 0x01);
  CHECK(p.cpuid_step == 0x01);
  CHECK(p.platform_info == 0x27);
  CHECK(to_hex(p.chip_id) == std::string(128, '0'));
  check_real_signature(p, vectors() / "vlek.der");
}

}  // namespace
}  // namespace mkguest
