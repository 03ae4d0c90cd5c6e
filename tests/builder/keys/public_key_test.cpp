// Wherever a public key is expected, a private key is refused (docs/security.md,
// "Hardening, second round"): `uki build --pcrpkey`/`--pcr-public-key`, a
// recipe's pcr_signature.public_key, and `verify-signature --key`. A private
// key embedded in .pcrpkey would be published with the image.
#include <catch2/catch.hpp>

#include "base/error.h"
#include "base/file.h"
#include "builder/keys/keys.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

void make_keys(const fs::path& d) {
  auto ok = [](const std::vector<std::string>& a) { REQUIRE(test::run(a).exit_code == 0); };
  ok({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
      (d / "priv.pem").string()});
  ok({"openssl", "pkey", "-in", (d / "priv.pem").string(), "-pubout", "-out",
      (d / "pub.pem").string()});
  // The traditional (SEC1) form and an encrypted PKCS#8 form.
  ok({"openssl", "ec", "-in", (d / "priv.pem").string(), "-out", (d / "sec1.pem").string()});
  ok({"openssl", "pkcs8", "-topk8", "-in", (d / "priv.pem").string(), "-passout", "pass:pw", "-out",
      (d / "enc.pem").string()});
  // A public key followed by a private key in one file.
  test::write_text(d / "both.pem",
                   test::read_text(d / "pub.pem") + test::read_text(d / "priv.pem"));
}

}  // namespace

TEST_CASE("keys: a private key is refused where a public key is expected", "[keys]") {
  test::TempDir d;
  make_keys(d.path());
  for (const char* f : {"priv.pem", "sec1.pem", "enc.pem", "both.pem"}) {
    INFO(f);
    CHECK_THROWS_AS(keys::refuse_private_pem(read_file(d / f), f), InputError);
    CHECK_THROWS_AS(keys::Verifier::from_pem(read_file(d / f), f), InputError);
  }
  keys::refuse_private_pem(read_file(d / "pub.pem"), "pub.pem");
  CHECK_FALSE(keys::Verifier::from_pem(read_file(d / "pub.pem"), "pub.pem").keyid().empty());
}

TEST_CASE("uki build --pcrpkey and a recipe's public_key refuse a private key", "[keys][uki]") {
  test::TempDir d;
  make_keys(d.path());
  test::write_text(d / "K", "kernel");
  test::write_text(d / "S", "stub");  // refused before the stub is read
  for (const char* opt : {"--pcrpkey", "--pcr-public-key"}) {
    auto r = test::run_mkguest(
        {"uki", "build", "--stub", "S", "--linux", "K", opt, "priv.pem", "-o", "U"}, {}, d.path());
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("priv.pem: error: holds a PEM private key"));
    CHECK_FALSE(fs::exists(d / "U"));
  }
  test::write_text(d / "x.dsse.json", "{}");
  auto v =
      test::run_mkguest({"verify-signature", "x.dsse.json", "--key", "priv.pem"}, {}, d.path());
  CHECK(v.exit_code == 2);
  CHECK_THAT(v.err, Catch::Contains("priv.pem: error: holds a PEM private key"));
}
