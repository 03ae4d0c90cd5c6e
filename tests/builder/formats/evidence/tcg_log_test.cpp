// The TPM event-log reader (and its PCR-value readers) on real logs from
// tpm2-tools' test fixtures, whose replay must equal the PCR values
// tpm2_eventlog printed for them (tests/vectors/tpm_eventlog/README.md), and
// on bad input, each refused at its offset or line.
#include <catch2/catch.hpp>
#include <string>

#include "base/encoding.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/formats/evidence/pcr_values.h"
#include "builder/formats/evidence/tcg_log.h"
#include "tests/test_util.h"

namespace mkguest {
namespace {

using evidence::parse_tcg_log;

std::filesystem::path vectors() { return test::source_dir() / "tests/vectors/tpm_eventlog"; }

std::string error_of(const Bytes& bytes) {
  try {
    parse_tcg_log(bytes, "log.bin");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(parsed)";
}

std::string yaml_error(const std::string& text) {
  try {
    evidence::parse_pcrread_yaml(text, "pcrs.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(parsed)";
}

// A minimal log: Spec ID with SHA-256 only, then one EV_IPL record in PCR 9.
Bytes small_log() {
  Bytes b(32, 0);
  b[4] = 3;  // EV_NO_ACTION
  std::string spec("Spec ID Event03", 16);
  Bytes s(spec.begin(), spec.end());
  s.insert(s.end(), {0, 0, 0, 0, 0, 2, 0, 2, 1, 0, 0, 0, 0x0b, 0, 32, 0, 0});
  b[28] = static_cast<std::uint8_t>(s.size());
  b.insert(b.end(), s.begin(), s.end());
  Bytes e = {9, 0, 0, 0, 0xd, 0, 0, 0, 1, 0, 0, 0, 0x0b, 0};
  e.insert(e.end(), 32, 0xab);
  e.insert(e.end(), {2, 0, 0, 0, 'h', 'i'});
  b.insert(b.end(), e.begin(), e.end());
  return b;
}

}  // namespace

TEST_CASE("tpm event log: tpm2-tools' real logs replay to the values tpm2_eventlog printed",
          "[evidence][tpm]") {
  for (const char* name : {"gce-ubuntu-2104-log", "sd-boot-fedora37", "arch-linux"}) {
    INFO(name);
    const std::string bin = name + std::string(".bin");
    const auto log = parse_tcg_log(read_file(vectors() / bin), bin);
    const auto want = evidence::parse_pcrread_yaml(
        read_text_file(vectors() / (name + std::string(".pcrs.yaml"))), name);
    const auto got = evidence::replay_tcg_log(log);
    REQUIRE(!want.empty());
    std::size_t compared = 0;
    for (const auto& [bank, pcrs] : want)
      for (const auto& [i, value] : pcrs) {
        INFO(hash_name(bank) << " PCR " << i);
        CHECK(to_hex(got.at(bank)[i]) == to_hex(value));
        ++compared;
      }
    CHECK(compared >= 10);
  }
  // The GCE log: SHA-1, SHA-256 and SHA-384 banks, 3 of each of its events.
  const auto gce = parse_tcg_log(read_file(vectors() / "gce-ubuntu-2104-log.bin"), "gce.bin");
  CHECK(gce.banks == std::vector<HashAlg>{HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384});
  CHECK(gce.events.size() > 50);
}

TEST_CASE("tpm event log: bad logs are refused at their offset", "[evidence][tpm]") {
  const Bytes good = small_log();
  REQUIRE(parse_tcg_log(good, "log.bin").events.size() == 1);
  REQUIRE(evidence::looks_like_tcg_log(good));
  // Truncated inside the record's digest.
  CHECK_THAT(error_of(Bytes(good.begin(), good.end() - 30)), Catch::Contains("log.bin:0x"));
  Bytes b = good;
  const std::size_t rec = good.size() - 52;
  b[rec] = 24;  // PCR 24
  CHECK_THAT(error_of(b),
             Catch::Contains("log.bin:" + hex_offset(rec) + ": error: PCR index 24 is not 0..23"));
  b = good;
  b[rec + 12] = 0x04;  // SHA-1: not declared
  CHECK_THAT(error_of(b), Catch::Contains(hex_offset(rec + 12) + ": error: digest algorithm 0x4 "
                                                                 "not declared"));
  b = good;
  b[rec + 8] = 2;  // two digests for one declared algorithm
  CHECK_THAT(error_of(b), Catch::Contains(hex_offset(rec + 8) + ": error: event digest count 2"));
  b = good;
  b[32 + 28] = 0x0c;  // the declared algorithm becomes SHA-384, still with 32 bytes
  CHECK_THAT(error_of(b), Catch::Contains("log.bin:0x3e: error: digest size 32 of algorithm 0xc "
                                          "is not its size 48"));
  b = good;
  b.push_back(0);  // a trailing byte is a truncated record, not filler
  CHECK_THAT(error_of(b), Catch::Contains(hex_offset(good.size())));
  b = good;
  b[rec + 46] = 0xff;  // event data size 0x7f0000ff: too large
  b[rec + 49] = 0x7f;
  CHECK_THAT(error_of(b), Catch::Contains(hex_offset(rec + 46) + ": error: event data size"));
  b[rec + 49] = 0;  // 0xff: past the end
  CHECK_THAT(error_of(b), Catch::Contains("log.bin:0x"));
}

TEST_CASE("pcr values: tpm2_pcrread YAML and sysfs files, strict", "[evidence][tpm]") {
  const std::string d1(40, 'a'), d256(64, 'B');
  const auto v = evidence::parse_pcrread_yaml(
      "  sha1:\n    0 : 0x" + d1 + "\n  sha256:\n    0 : 0x" + d256 + "\n    11: 0x" + d256 + "\n",
      "pcrs.yaml");
  CHECK(v.at(HashAlg::kSha256).size() == 2);
  CHECK(to_hex(v.at(HashAlg::kSha1).at(0)) == d1);
  CHECK_THAT(yaml_error("  sha256:\n    0 : 0x" + d1 + "\n"),
             Catch::Contains("pcrs.yaml:2: error: PCR 0: not a sha256 digest"));
  CHECK_THAT(yaml_error("  md5:\n"), Catch::Contains("pcrs.yaml:1: error: unknown PCR bank"));
  CHECK_THAT(yaml_error("    0 : 0x" + d256 + "\n"),
             Catch::Contains("pcrs.yaml:1: error: a PCR value before"));
  CHECK_THAT(yaml_error("sha256:\n 24 : 0x" + d256 + "\n"),
             Catch::Contains("pcrs.yaml:2: error: \"24\" is not a PCR index"));
  CHECK_THAT(yaml_error("sha256:\n 1 : 0x" + d256 + "\n 1 : 0x" + d256 + "\n"),
             Catch::Contains("pcrs.yaml:3: error: PCR 1 twice"));
  CHECK_THAT(yaml_error("sha256:\n 1 : " + d256 + "\n"), Catch::Contains("not 0x<hex>"));
  CHECK_THAT(yaml_error("sha256:\n 1 = 0x\n"), Catch::Contains("pcrs.yaml:2: error: expected"));
  CHECK(to_hex(evidence::parse_sysfs_pcr(d256 + "\n", "11", HashAlg::kSha256)) ==
        std::string(64, 'b'));
  CHECK_THROWS_AS(evidence::parse_sysfs_pcr(d256 + "\n\n", "11", HashAlg::kSha256), InputError);
  CHECK_THROWS_AS(evidence::parse_sysfs_pcr(d1, "11", HashAlg::kSha256), InputError);
}

}  // namespace mkguest
