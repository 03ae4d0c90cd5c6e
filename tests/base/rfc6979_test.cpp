// Deterministic ECDSA (builder/keys/rfc6979.h) against RFC 6979's own
// vectors (Appendix A.2.5 and A.2.6), and the signatures checked by
// OpenSSL's verifier; the same key and message always give the same bytes.
#include <catch2/catch.hpp>

#include <openssl/ecdsa.h>

#include <string>

#include "base/encoding.h"
#include "base/file.h"
#include "builder/keys/keys.h"
#include "tests/test_util.h"

using namespace mkguest;

namespace {

keys::Signer rfc_key(const std::string& name) {
  const auto path = test::source_dir() / "tests/vectors/rfc6979" / (name + ".pem");
  return keys::Signer::from_pem(read_file(path), name);
}

// (r, s) of a DER ECDSA-Sig-Value, as fixed-width hex.
std::pair<std::string, std::string> r_s(const Bytes& der, int width) {
  const unsigned char* p = der.data();
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  REQUIRE(sig != nullptr);
  Bytes r(width), s(width);
  REQUIRE(BN_bn2binpad(ECDSA_SIG_get0_r(sig), r.data(), width) == width);
  REQUIRE(BN_bn2binpad(ECDSA_SIG_get0_s(sig), s.data(), width) == width);
  ECDSA_SIG_free(sig);
  return {to_hex(r), to_hex(s)};
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

struct Vector {
  const char* key;
  int width;
  const char* message;
  const char* r;
  const char* s;
};

// RFC 6979 A.2.5 (P-256, SHA-256) and A.2.6 (P-384, SHA-384).
const Vector kVectors[] = {
    {"p256", 32, "sample", "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
     "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"},
    {"p256", 32, "test", "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367",
     "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"},
    {"p384", 48, "sample",
     "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fa"
     "be46",
     "99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a3862"
     "8ac8"},
    {"p384", 48, "test",
     "8203b63d3c853e8d77227fb377bcf7b7b772e97892a80f36ab775d509d7a5feb0542a7f0812998da8f1dd3ca3cf0"
     "23db",
     "ddd0760448d42d8a43af45af836fce4de8be06b485e9b61b827c2f13173923e06a739f040649a667bf3b828246ba"
     "a5a5"},
};

}  // namespace

TEST_CASE("ECDSA signatures are RFC 6979's for its P-256 and P-384 vectors", "[keys][rfc6979]") {
  for (const auto& v : kVectors) {
    INFO(v.key << " " << v.message);
    const keys::Signer key = rfc_key(v.key);
    const Bytes sig = key.sign(text(v.message));
    const auto [r, s] = r_s(sig, v.width);
    CHECK(r == v.r);
    CHECK(s == v.s);
    CHECK(key.sign(text(v.message)) == sig);
  }
}

TEST_CASE("deterministic ECDSA verifies with OpenSSL on P-256, P-384 and P-521",
          "[keys][rfc6979]") {
  test::TempDir d;
  for (const char* curve : {"P-256", "P-384", "P-521"}) {
    INFO(curve);
    const auto key_path = d / (std::string(curve) + ".pem");
    auto r = test::run({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        std::string("ec_paramgen_curve:") + curve, "-out", key_path.string()});
    REQUIRE(r.exit_code == 0);
    r = test::run({"openssl", "pkey", "-in", key_path.string(), "-pubout", "-out",
                   key_path.string() + ".pub"});
    REQUIRE(r.exit_code == 0);
    const keys::Signer key = keys::Signer::from_pem(read_file(key_path), curve);
    const keys::Verifier pub =
        keys::Verifier::from_pem(read_file(key_path.string() + ".pub"), "pub");
    for (std::size_t n : {0u, 1u, 1000u}) {
      Bytes m(n, 0x5a);
      const Bytes sig = key.sign(m);
      CHECK(key.sign(m) == sig);
      CHECK(pub.verify(m, sig));
      if (!m.empty()) {
        m[0] ^= 1;
        CHECK_FALSE(pub.verify(m, sig));
      }
    }
    // OpenSSL's own verifier, outside this process.
    const Bytes msg = text("mkguest");
    write_file(d / "msg", msg);
    write_file(d / "sig", key.sign(msg));
    const char* md = std::string(curve) == "P-256"   ? "-sha256"
                     : std::string(curve) == "P-384" ? "-sha384"
                                                     : "-sha512";
    r = test::run({"openssl", "dgst", md, "-verify", key_path.string() + ".pub", "-signature",
                   (d / "sig").string(), (d / "msg").string()});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
  }
}
