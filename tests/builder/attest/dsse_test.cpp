// DSSE signing: envelopes made by `mkguest sign` verify with
// `mkguest verify-signature` and, independently, with the openssl CLI over the
// PAE bytes; any tampering fails; keys and passphrases never reach an output.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "builder/attest/dsse.h"
#include "tests/attest_fixture.h"
#include "tests/test_util.h"

namespace mkguest::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

// A key pair: priv.pem (mode 0600) and pub.pem.
void make_key(const fs::path& dir, const std::string& kind) {
  fs::create_directories(dir);
  std::vector<std::string> gen{"genpkey", "-out", (dir / "priv.pem").string()};
  if (kind == "rsa")
    gen.insert(gen.end(), {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"});
  if (kind == "ec256")
    gen.insert(gen.end(), {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"});
  if (kind == "ec384")
    gen.insert(gen.end(), {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"});
  if (kind == "ed25519") gen.insert(gen.end(), {"-algorithm", "ED25519"});
  openssl(gen);
  fs::permissions(dir / "priv.pem", fs::perms(0600));
  openssl(
      {"pkey", "-in", (dir / "priv.pem").string(), "-pubout", "-out", (dir / "pub.pem").string()});
}

// PAE per the DSSE spec, written independently of builder/attest/dsse.cpp.
std::string pae(const std::string& type, const std::string& body) {
  return "DSSEv1 " + std::to_string(type.size()) + " " + type + " " + std::to_string(body.size()) +
         " " + body;
}

std::string b64d(const TempDir& t, const std::string& text) {
  write_text(t / "b64.txt", text);
  auto r = run({"base64", "-d", (t / "b64.txt").string()});
  REQUIRE(r.exit_code == 0);
  return r.out;
}

TEST_CASE("dsse: sign and verify with RSA, ECDSA and Ed25519, openssl agrees", "[dsse]") {
  TempDir t;
  make_outdir(t / "out");
  fs::path manifest = t / "out/manifest.json";
  for (std::string kind : {"rsa", "ec256", "ec384", "ed25519"}) {
    INFO(kind);
    fs::path k = t / kind;
    make_key(k, kind);
    fs::path env = t / (kind + ".dsse.json");
    auto s = run_mkguest(
        {"sign", manifest.string(), "--key", (k / "priv.pem").string(), "-o", env.string()});
    INFO(s.err);
    REQUIRE(s.exit_code == 0);
    CHECK(s.err.find("warning") == std::string::npos);  // 0600: no warning
    auto v = run_mkguest({"verify-signature", env.string(), "--key", (k / "pub.pem").string(),
                          "--payload", manifest.string()});
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("OK") != std::string::npos);

    json e = json::parse(read_text(env));
    CHECK(e["payloadType"] == "application/vnd.mkguest.manifest.v1+json");
    std::string body = b64d(t, e["payload"]);
    CHECK(body == read_text(manifest));
    // keyid = SHA-256 of the DER SubjectPublicKeyInfo.
    auto der = run({"openssl", "pkey", "-pubin", "-in", (k / "pub.pem").string(), "-outform", "DER",
                    "-out", (t / "pub.der").string()});
    REQUIRE(der.exit_code == 0);
    CHECK(e["signatures"][0]["keyid"] == sha256_file(t / "pub.der"));
    // The openssl CLI verifies the signature over the PAE bytes.
    write_text(t / "pae.bin", pae(e["payloadType"], body));
    write_text(t / "sig.bin", b64d(t, e["signatures"][0]["sig"]));
    std::vector<std::string> check;
    if (kind == "ed25519")
      check = {"openssl",
               "pkeyutl",
               "-verify",
               "-pubin",
               "-inkey",
               (k / "pub.pem").string(),
               "-rawin",
               "-in",
               (t / "pae.bin").string(),
               "-sigfile",
               (t / "sig.bin").string()};
    else
      check = {"openssl",
               "dgst",
               kind == "ec384" ? "-sha384" : "-sha256",
               "-verify",
               (k / "pub.pem").string(),
               "-signature",
               (t / "sig.bin").string(),
               (t / "pae.bin").string()};
    auto o = run(check);
    INFO(o.out << o.err);
    CHECK(o.exit_code == 0);
  }
}

TEST_CASE("dsse: tampering makes verification fail", "[dsse]") {
  TempDir t;
  make_outdir(t / "out");
  fs::path manifest = t / "out/manifest.json";
  make_key(t / "k", "ec256");
  make_key(t / "other", "ec256");
  REQUIRE(
      run_mkguest({"sign", manifest.string(), "--key", (t / "k/priv.pem").string()}).exit_code ==
      0);
  fs::path env = t / "out/manifest.json.dsse.json";
  json e = json::parse(read_text(env));
  auto verify = [&](const json& envelope, const std::vector<std::string>& extra = {}) {
    write_text(t / "e.json", envelope.dump());
    std::vector<std::string> a{"verify-signature", (t / "e.json").string(), "--key",
                               (t / "k/pub.pem").string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_mkguest(a);
  };
  CHECK(verify(e).exit_code == 0);

  SECTION("payload changed") {
    std::string body = b64d(t, e["payload"]);
    body[body.find("1700000000")] = '2';
    write_text(t / "p", body);
    auto r = run({"base64", "-w0", (t / "p").string()});
    json x = e;
    x["payload"] = r.out;
    auto v = verify(x);
    CHECK(v.exit_code == 1);
    CHECK(v.out.find("FAILED") != std::string::npos);
  }
  SECTION("payload type changed") {
    json x = e;
    x["payloadType"] = "application/vnd.in-toto+json";
    CHECK(verify(x).exit_code == 1);
  }
  SECTION("signature changed") {
    json x = e;
    std::string sig = x["signatures"][0]["sig"];
    sig[10] = sig[10] == 'A' ? 'B' : 'A';
    x["signatures"][0]["sig"] = sig;
    CHECK(verify(x).exit_code == 1);
  }
  SECTION("another key") {
    auto v =
        run_mkguest({"verify-signature", env.string(), "--key", (t / "other/pub.pem").string()});
    CHECK(v.exit_code == 1);
  }
  SECTION("the file on disk changed after signing") {
    write_text(manifest, read_text(manifest) + " ");
    CHECK(verify(e, {"--payload", manifest.string()}).exit_code == 1);
  }
  SECTION("no signatures") {
    json x = e;
    x["signatures"] = json::array();
    CHECK(verify(x).exit_code == 1);
  }
  SECTION("not an envelope") { CHECK(verify(json{{"payload", 1}}).exit_code == 2); }
}

TEST_CASE("dsse: X.509 certificates", "[dsse]") {
  TempDir t;
  make_outdir(t / "out");
  fs::path manifest = t / "out/manifest.json";
  make_key(t / "ca", "ec256");
  make_key(t / "k", "ec256");
  openssl({"req", "-x509", "-new", "-key", (t / "ca/priv.pem").string(), "-subj", "/CN=test CA",
           "-days", "3650", "-out", (t / "ca.pem").string()});
  openssl({"req", "-new", "-key", (t / "k/priv.pem").string(), "-subj", "/CN=release signer",
           "-out", (t / "k.csr").string()});
  openssl({"x509", "-req", "-in", (t / "k.csr").string(), "-CA", (t / "ca.pem").string(), "-CAkey",
           (t / "ca/priv.pem").string(), "-set_serial", "1", "-days", "3650", "-out",
           (t / "k.pem").string()});
  auto s = run_mkguest({"sign", manifest.string(), "--key", (t / "k/priv.pem").string(), "--cert",
                        (t / "k.pem").string()});
  REQUIRE(s.exit_code == 0);
  fs::path env = t / "out/manifest.json.dsse.json";
  CHECK(run_mkguest({"verify-signature", env.string(), "--cert", (t / "k.pem").string(), "--ca",
                     (t / "ca.pem").string()})
            .exit_code == 0);
  // A certificate that does not chain to the CA.
  auto v = run_mkguest({"verify-signature", env.string(), "--cert", (t / "k.pem").string(), "--ca",
                        (t / "k.pem").string()});
  CHECK(v.exit_code == 1);
  // A certificate for another key is refused at signing time.
  auto bad = run_mkguest({"sign", manifest.string(), "--key", (t / "k/priv.pem").string(), "--cert",
                          (t / "ca.pem").string(), "-o", (t / "x.json").string()});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("not for the signing key") != std::string::npos);
}

TEST_CASE("dsse: no secret in outputs, key file permissions warned about", "[dsse]") {
  TempDir t;
  make_outdir(t / "out");
  fs::path manifest = t / "out/manifest.json";
  const std::string pass = "correct horse battery staple 42";
  openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc",
           "-pass", "pass:" + pass, "-out", (t / "enc.pem").string()});
  openssl({"pkey", "-in", (t / "enc.pem").string(), "-passin", "pass:" + pass, "-out",
           (t / "plain.pem").string()});
  openssl({"pkey", "-in", (t / "plain.pem").string(), "-pubout", "-out", (t / "pub.pem").string()});
  fs::permissions(t / "enc.pem", fs::perms(0640));
  auto s = run_mkguest({"sign", manifest.string(), "--key", (t / "enc.pem").string(),
                        "--passphrase-env", "SIGN_PASS"},
                       {"SIGN_PASS=" + pass});
  INFO(s.err);
  REQUIRE(s.exit_code == 0);
  CHECK(s.err.find("warning: key file") != std::string::npos);
  CHECK(s.err.find("0640") != std::string::npos);
  CHECK(run_mkguest({"verify-signature", (t / "out/manifest.json.dsse.json").string(), "--key",
                     (t / "pub.pem").string()})
            .exit_code == 0);
  // Neither the passphrase nor any line of the key appears anywhere.
  std::vector<std::string> secret_lines;
  std::istringstream key(read_text(t / "plain.pem") + read_text(t / "enc.pem"));
  for (std::string line; std::getline(key, line);)
    if (line.find("-----") == std::string::npos && line.size() > 16) secret_lines.push_back(line);
  REQUIRE(!secret_lines.empty());
  std::string everything = s.out + s.err + read_text(t / "out/manifest.json.dsse.json");
  CHECK(everything.find(pass) == std::string::npos);
  for (const auto& l : secret_lines) CHECK(everything.find(l) == std::string::npos);

  // A wrong passphrase: exit 2, and the message does not echo it.
  auto w = run_mkguest({"sign", manifest.string(), "--key", (t / "enc.pem").string(),
                        "--passphrase-env", "SIGN_PASS", "-o", (t / "w.json").string()},
                       {"SIGN_PASS=not the passphrase"});
  CHECK(w.exit_code == 2);
  CHECK(w.err.find("not the passphrase") == std::string::npos);
  CHECK(!fs::exists(t / "w.json"));
}

}  // namespace
}  // namespace mkguest::test

namespace mkguest::test {
namespace {

TEST_CASE("dsse: a key on a PKCS#11 token (SoftHSM through OpenSSL's pkcs11 engine)", "[dsse]") {
  const fs::path module = "/usr/lib/softhsm/libsofthsm2.so";
  if (!have_tool("softhsm2-util") || !fs::exists(module) ||
      !fs::exists("/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so")) {
    test::skip_or_fail(
        "softhsm2 or libengine-pkcs11-openssl is not installed (scripts/install-deps --test "
        "installs softhsm2, libengine-pkcs11-openssl, sbsigntool)");
    return;
  }
  TempDir t;
  make_outdir(t / "out");
  fs::create_directories(t / "tokens");
  write_text(t / "softhsm2.conf", "directories.tokendir = " + (t / "tokens").string() +
                                      "\nobjectstore.backend = file\nlog.level = ERROR\n");
  std::string conf = "SOFTHSM2_CONF=" + (t / "softhsm2.conf").string();
  auto init = run({"softhsm2-util", "--init-token", "--free", "--label", "release", "--pin", "4321",
                   "--so-pin", "8765"},
                  {conf});
  REQUIRE(init.exit_code == 0);
  make_key(t / "k", "ec256");
  auto imp = run({"softhsm2-util", "--import", (t / "k/priv.pem").string(), "--token", "release",
                  "--label", "signer", "--id", "01", "--pin", "4321"},
                 {conf});
  INFO(imp.out << imp.err);
  REQUIRE(imp.exit_code == 0);
  const std::string uri = "pkcs11:token=release;object=signer;type=private";
  auto s = run_mkguest({"sign", (t / "out/manifest.json").string(), "--key", uri, "--pkcs11-module",
                        module.string(), "--passphrase-env", "TOKEN_PIN"},
                       {conf, "TOKEN_PIN=4321"});
  INFO(s.err);
  REQUIRE(s.exit_code == 0);
  CHECK(s.err.find("4321") == std::string::npos);
  auto v = run_mkguest({"verify-signature", (t / "out/manifest.json.dsse.json").string(), "--key",
                        (t / "k/pub.pem").string()});
  CHECK(v.exit_code == 0);
  // A wrong PIN is an input error and is not echoed.
  auto w = run_mkguest(
      {"sign", (t / "out/manifest.json").string(), "--key", uri, "--pkcs11-module", module.string(),
       "--passphrase-env", "TOKEN_PIN", "-o", (t / "w.json").string()},
      {conf, "TOKEN_PIN=0000",
       "LSAN_OPTIONS=suppressions=" + (source_dir() / "tests/lsan-libp11.supp").string()});
  CHECK(w.exit_code == 2);
  CHECK(w.err.find("0000") == std::string::npos);
  CHECK(!fs::exists(t / "w.json"));
}

}  // namespace
}  // namespace mkguest::test

namespace mkguest::test {
namespace {

TEST_CASE("dsse: an envelope signed by the openssl CLI verifies (keyid is only a hint)", "[dsse]") {
  TempDir t;
  make_key(t / "k", "ec256");
  const std::string type = "application/vnd.in-toto+json";
  const std::string body = "{\"_type\":\"https://in-toto.io/Statement/v1\"}";
  write_text(t / "pae.bin", pae(type, body));
  openssl({"dgst", "-sha256", "-sign", (t / "k/priv.pem").string(), "-out",
           (t / "sig.bin").string(), (t / "pae.bin").string()});
  write_text(t / "body", body);
  auto b64 = [&](const fs::path& p) {
    auto r = run({"base64", "-w0", p.string()});
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  json env{{"payloadType", type},
           {"payload", b64(t / "body")},
           {"signatures",
            json::array({{{"keyid", "another-signers-key-name"}, {"sig", b64(t / "sig.bin")}}})}};
  write_text(t / "e.json", env.dump());
  auto v = run_mkguest({"verify-signature", (t / "e.json").string(), "--key",
                        (t / "k/pub.pem").string(), "--payload", (t / "body").string()});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  // The same signature over another payload type does not.
  env["payloadType"] = "application/json";
  write_text(t / "e.json", env.dump());
  CHECK(run_mkguest(
            {"verify-signature", (t / "e.json").string(), "--key", (t / "k/pub.pem").string()})
            .exit_code == 1);
}

}  // namespace
TEST_CASE("dsse: an envelope with more than 64 signatures is refused before any is checked",
          "[dsse]") {
  json sig = json{{"keyid", "k"}, {"sig", "AAAA"}};
  json env = json{{"payload", "eA=="}, {"payloadType", "t"}, {"signatures", json::array()}};
  for (int i = 0; i < 65; ++i) env["signatures"].push_back(sig);
  const std::vector<attest::Verifier> none;
  CHECK_THROWS_WITH(attest::dsse_verify(env, none, "e.json"),
                    "e.json: error: the DSSE envelope has 65 signatures; at most 64 are read");
  env["signatures"].erase(0);
  CHECK(!attest::dsse_verify(env, none, "e.json").ok);
}

}  // namespace mkguest::test
