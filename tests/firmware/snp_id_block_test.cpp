// `mkguest measure snp-id-block`: the ID block and key digests equal those of
// snp-create-id-block (tests/vectors/snp_id_block/), and both signatures in
// the ID auth structure verify (and fail once a byte changes), and the ID auth
// is the same on every run (RFC 6979 nonces).
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "firmware/snp_id_block.h"
#include "tests/test_util.h"

using namespace mkguest;

namespace {
Bytes unbase64(const std::string& s) {
  Bytes b(s.size(), 0);
  int n = EVP_DecodeBlock(b.data(), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  REQUIRE(n >= 0);
  std::size_t pad = (s.size() >= 1 && s.back() == '=') + (s.size() >= 2 && s[s.size() - 2] == '=');
  b.resize(static_cast<std::size_t>(n) - pad);
  return b;
}
std::string after(const std::string& text, const std::string& key) {
  auto p = text.find(key);
  REQUIRE(p != std::string::npos);
  auto e = text.find_first_of(",\n", p);
  return text.substr(p + key.size(), e - p - key.size());
}
}  // namespace

TEST_CASE("snp-id-block matches snp-create-id-block and its signatures verify", "[snp]") {
  auto dir = test::source_dir() / "tests/vectors/snp_id_block";
  std::string expected = test::read_text(dir / "expected.txt");
  std::string ld = after(expected, "measurement=");
  auto r = test::run_mkguest({"measure", "snp-id-block", "--measurement", ld, "--idkey", "id.pem",
                              "--authorkey", "author.pem"},
                             {}, dir);
  REQUIRE(r.exit_code == 0);
  CHECK(after(r.out, "id-block=") == after(expected, "id-block="));
  CHECK(after(r.out, "id_key_hash: ") == after(expected, "id_key_hash: "));
  CHECK(after(r.out, "author_key: ") == after(expected, "author_key: "));
  Bytes block = unbase64(after(r.out, "id-block="));
  Bytes auth = unbase64(after(r.out, "id-auth="));
  REQUIRE(block.size() == 96);
  REQUIRE(auth.size() == 4096);
  Bytes block_sig(auth.begin() + 0x40, auth.begin() + 0x240);
  Bytes id_key(auth.begin() + 0x240, auth.begin() + 0x644);
  Bytes key_sig(auth.begin() + 0x680, auth.begin() + 0x880);
  Bytes author_key(auth.begin() + 0x880, auth.begin() + 0xc84);
  CHECK(snp_verify_signature(id_key, block_sig, block));
  CHECK(snp_verify_signature(author_key, key_sig, id_key));
  Bytes tampered = block;
  tampered[0x58] ^= 1;  // the policy
  CHECK_FALSE(snp_verify_signature(id_key, block_sig, tampered));
  CHECK_FALSE(snp_verify_signature(author_key, key_sig, author_key));
  // The signatures use RFC 6979's nonce: a second run writes the same ID auth.
  auto again = test::run_mkguest({"measure", "snp-id-block", "--measurement", ld, "--idkey",
                                  "id.pem", "--authorkey", "author.pem"},
                                 {}, dir);
  REQUIRE(again.exit_code == 0);
  CHECK(after(again.out, "id-auth=") == after(r.out, "id-auth="));
}

TEST_CASE("snp-id-block rejects keys that are not P-384", "[snp]") {
  test::TempDir d;
  auto g = test::run({"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out",
                      (d / "p256.pem").string()});
  REQUIRE(g.exit_code == 0);
  auto dir = test::source_dir() / "tests/vectors/snp_id_block";
  auto r = test::run_mkguest({"measure", "snp-id-block", "--measurement", std::string(64, 'A'),
                              "--idkey", (d / "p256.pem").string(), "--authorkey",
                              (dir / "author.pem").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == (d / "p256.pem").string() +
                     ": error: SNP ID and author keys must be EC P-384 (secp384r1) keys\n");
}

// HOST_DATA is a separate SNP_LAUNCH_FINISH parameter: with --host-data the
// ID block (and so its signature input) stays snp-create-id-block's, and the
// QEMU line gains host-data= with the init-data value of the spec-text script
// (tests/builder/measure/initdata_ref.py), in base64 as Python encodes it.
TEST_CASE("snp-id-block --host-data keeps snp-create-id-block's ID block", "[snp][initdata]") {
  auto dir = test::source_dir() / "tests/vectors/snp_id_block";
  std::string expected = test::read_text(dir / "expected.txt");
  std::string ld = after(expected, "measurement=");
  const auto doc = test::source_dir() / "tests/data/initdata/coco-sha384.toml";
  const auto ref = test::source_dir() / "tests/builder/measure/initdata_ref.py";
  auto py = test::run(
      {"/usr/bin/python3", "-c",
       "import json,subprocess,sys,base64;"
       "j=json.loads(subprocess.check_output([sys.executable,sys.argv[1],'digest',sys.argv[2]]));"
       "print(j['snp'], base64.b64encode(bytes.fromhex(j['snp'])).decode())",
       ref.string(), doc.string()});
  REQUIRE(py.exit_code == 0);
  const std::string hex = py.out.substr(0, 64), b64 = py.out.substr(65, 44);
  auto r = test::run_mkguest({"measure", "snp-id-block", "--measurement", ld, "--idkey", "id.pem",
                              "--authorkey", "author.pem", "--host-data", hex},
                             {}, dir);
  REQUIRE(r.exit_code == 0);
  CHECK(after(r.out, "id-block=") == after(expected, "id-block="));
  CHECK(after(r.out, "host-data=") == b64);
  CHECK(test::run_mkguest({"measure", "snp-id-block", "--measurement", ld, "--idkey", "id.pem",
                           "--authorkey", "author.pem", "--host-data", hex.substr(2)},
                          {}, dir)
            .exit_code == 1);
}
