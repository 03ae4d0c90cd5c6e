// A recipe that signs its CoRIM (`exports.corim.sign`, docs/corim.md): the
// build writes corim.cose beside corim.cbor, both independent decoders
// (tests/builder/attest/corim_check.py and tests/js/corim_check.js) verify it
// and find the init-data binding (SNP HOST_DATA, TDX MRCONFIGID) and the
// recipe-pinned TD attributes and XFAM in it, `verify --rebuild` passes
// (byte for byte with Ed25519, the signed content with ECDSA), and bad
// settings are reported at their line and column with nothing written.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/snp_fixtures.h"
#include "tests/tdx_fixture.h"
#include "tests/test_util.h"

namespace mkguest::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

// dir/priv.pem (0600; encrypted with `pass` when given), dir/pub.pem, dir/cert.pem.
void make_key(const fs::path& dir, const std::string& kind, const std::string& pass = {}) {
  fs::create_directories(dir);
  std::vector<std::string> gen{"genpkey", "-out", (dir / "priv.pem").string()};
  if (kind == "ec256")
    gen.insert(gen.end(), {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"});
  if (kind == "ed25519") gen.insert(gen.end(), {"-algorithm", "ED25519"});
  if (!pass.empty()) gen.insert(gen.end(), {"-aes-256-cbc", "-pass", "pass:" + pass});
  openssl(gen);
  fs::permissions(dir / "priv.pem", fs::perms(0600));
  const std::string in = (dir / "priv.pem").string(), pw = "pass:" + pass;
  openssl({"pkey", "-in", in, "-passin", pw, "-pubout", "-out", (dir / "pub.pem").string()});
  openssl({"req", "-new", "-x509", "-key", in, "-passin", pw, "-subj", "/CN=corim signer", "-days",
           "1", "-out", (dir / "cert.pem").string()});
}

// Both independent decoders on OUTDIR's corim.cose, with the signer's public key.
void check_independently(const fs::path& out, const fs::path& pub) {
  const std::string m = (out / "manifest.json").string(), c = (out / "corim.cose").string();
  if (run({"/usr/bin/python3", "-c", "import cbor2, cryptography"}).exit_code != 0) {
    skip_or_fail("python3-cbor2 or python3-cryptography missing: run scripts/install-deps --test");
  } else {
    auto p =
        run({"/usr/bin/python3", (source_dir() / "tests/builder/attest/corim_check.py").string(), m,
             c, "--cose", pub.string()});
    INFO("python: " << p.out << p.err);
    CHECK(p.out == "OK\n");
  }
  const std::string js = (source_dir() / "tests/js/corim_check.js").string();
  if (!have_tool("node") || run({"node", js, "--probe"}).exit_code != 0) {
    skip_or_fail(
        "node or the npm modules missing: run scripts/install-deps --test and "
        "scripts/fetch-npm-modules");
    return;
  }
  auto n = run({"node", js, m, c, "--cose", pub.string()});
  INFO("node: " << n.out << n.err);
  CHECK(n.out == "OK\n");
}

json initdata_reference(const fs::path& doc) {
  auto r =
      run({"/usr/bin/python3", (source_dir() / "tests/builder/measure/initdata_ref.py").string(),
           "digest", doc.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

void snp_recipe(const TempDir& t, const std::string& sign) {
  write_snp_fixtures(t.path());
  write_text(t / "pod.toml", read_text(source_dir() / "tests/data/initdata/coco-sha384.toml"));
  write_text(t / "recipe.yaml", R"(name: corim-signed
version: "1.0"
source_date_epoch: 1700000000
kernel: kernel.bin
cmdline: console=ttyS0
initdata: pod.toml
measurements:
  snp: {firmware: synth_ovmf_new_order.fd, vcpus: [1, 2], vcpu_types: [EPYC-Genoa]}
exports:
  corim:
    sign:
)" + sign);
}

TEST_CASE("recipe exports: corim.cose signed with an Ed25519 key binds HOST_DATA and rebuilds",
          "[corim][initdata]") {
  TempDir t;
  make_key(t / "k", "ed25519");
  snp_recipe(t, "      key: k/priv.pem\n      certificate: k/cert.pem\n");
  auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  REQUIRE(fs::exists(t / "out/corim.cbor"));
  REQUIRE(fs::exists(t / "out/corim.cose"));
  // HOST_DATA is the init-data document's digest by an independent model.
  const json m = json::parse(read_text(t / "out/manifest.json"));
  CHECK(m["measurements"]["snp"]["host_data"] ==
        initdata_reference(t / "out/initdata.toml")["snp"]);
  check_independently(t / "out", t / "k/pub.pem");
  // verify-signature checks it, and its payload is the build's unsigned CoRIM.
  auto v = run_mkguest(
      {"verify-signature", "out/corim.cose", "--key", "k/pub.pem", "--payload-out", "payload.cbor"},
      {}, t.path());
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  CHECK(read_text(t / "payload.cbor") == read_text(t / "out/corim.cbor"));
  // Ed25519 is deterministic: the rebuild's corim.cose is byte-identical.
  auto r = run_mkguest({"verify", "out", "--rebuild", "recipe.yaml"}, {}, t.path());
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("randomised") == std::string::npos);
  std::string cose = read_text(t / "out/corim.cose");
  cose[cose.size() - 1] ^= 1;  // a signature byte
  write_text(t / "out/corim.cose", cose);
  r = run_mkguest({"verify", "out", "--rebuild", "recipe.yaml"}, {}, t.path());
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("DIFFERENT rebuild: corim.cose") != std::string::npos);
}

TEST_CASE("recipe exports: an ECDSA key with its passphrase from pin_env, compared on rebuild",
          "[corim]") {
  TempDir t;
  make_key(t / "k", "ec256", "s3cret");
  snp_recipe(t, "      key: k/priv.pem\n      pin_env: CORIM_KEY_PASS\n");
  auto b =
      run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {"CORIM_KEY_PASS=s3cret"}, t.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  check_independently(t / "out", t / "k/pub.pem");
  // A PEM key signs with RFC 6979's deterministic k: the rebuild is
  // byte-identical, with no allowance for a randomised signature.
  auto r = run_mkguest({"verify", "out", "--rebuild", "recipe.yaml"}, {"CORIM_KEY_PASS=s3cret"},
                       t.path());
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("randomised") == std::string::npos);
  // One payload byte changed (the CoRIM id's last letter): the rebuild differs.
  std::string cose = read_text(t / "out/corim.cose");
  const auto at = cose.find("corim-signed-1.0");
  REQUIRE(at != std::string::npos);
  cose[at + 15] = '1';
  write_text(t / "out/corim.cose", cose);
  r = run_mkguest({"verify", "out", "--rebuild", "recipe.yaml"}, {"CORIM_KEY_PASS=s3cret"},
                  t.path());
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("DIFFERENT rebuild: corim.cose") != std::string::npos);
  // Not a signed CoRIM at all: it differs too (verify does not stop at it).
  write_text(t / "out/corim.cose", "{}");
  r = run_mkguest({"verify", "out", "--rebuild", "recipe.yaml"}, {"CORIM_KEY_PASS=s3cret"},
                  t.path());
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("DIFFERENT rebuild: corim.cose") != std::string::npos);
}

TEST_CASE("recipe exports: corim.cose signed with a key on a PKCS#11 token (SoftHSM)", "[corim]") {
  const fs::path module = "/usr/lib/softhsm/libsofthsm2.so";
  if (!have_tool("softhsm2-util") || !fs::exists(module) ||
      !fs::exists("/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so")) {
    skip_or_fail(
        "softhsm2 or libengine-pkcs11-openssl is not installed (scripts/install-deps --test)");
    return;
  }
  TempDir t;
  make_key(t / "k", "ec256");
  fs::create_directories(t / "tokens");
  write_text(t / "softhsm2.conf", "directories.tokendir = " + (t / "tokens").string() +
                                      "\nobjectstore.backend = file\nlog.level = ERROR\n");
  const std::string conf = "SOFTHSM2_CONF=" + (t / "softhsm2.conf").string();
  REQUIRE(run({"softhsm2-util", "--init-token", "--free", "--label", "release", "--pin", "4321",
               "--so-pin", "8765"},
              {conf})
              .exit_code == 0);
  REQUIRE(run({"softhsm2-util", "--import", (t / "k/priv.pem").string(), "--token", "release",
               "--label", "signer", "--id", "01", "--pin", "4321"},
              {conf})
              .exit_code == 0);
  snp_recipe(t,
             "      key: \"pkcs11:token=release;object=signer;type=private\"\n"
             "      pkcs11_module: " +
                 module.string() +
                 "\n      pin_env: TOKEN_PIN\n"
                 "      certificate: k/cert.pem\n");
  auto b =
      run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {conf, "TOKEN_PIN=4321"}, t.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  check_independently(t / "out", t / "k/pub.pem");
  auto r = run_mkguest({"verify", "out", "--rebuild", "recipe.yaml"}, {conf, "TOKEN_PIN=4321"},
                       t.path());
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  // The token draws its own ECDSA k: the rebuild compares what is signed.
  CHECK(r.err.find("corim.cose: its ECDSA signature is randomised (a token's key)") !=
        std::string::npos);
}

TEST_CASE("recipe exports: corim signing errors name the place, nothing is written", "[corim]") {
  TempDir t;
  make_key(t / "k", "ed25519");
  make_key(t / "other", "ed25519");
  SECTION("pin_env not set") {
    snp_recipe(t, "      key: k/priv.pem\n      pin_env: NO_SUCH_VARIABLE_X\n");
    auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
    CHECK(b.exit_code == 2);
    CHECK(b.err.find("recipe.yaml:12:7: error: exports.corim.sign.pin_env: environment variable "
                     "NO_SUCH_VARIABLE_X is not set") != std::string::npos);
  }
  SECTION("an unknown key") {
    snp_recipe(t, "      key: k/priv.pem\n      cert: k/cert.pem\n");
    auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
    CHECK(b.exit_code == 2);
    CHECK(b.err.find("recipe.yaml:13:7: error:") != std::string::npos);
    CHECK(b.err.find("cert") != std::string::npos);
  }
  SECTION("a certificate of another key") {
    snp_recipe(t, "      key: k/priv.pem\n      certificate: other/cert.pem\n");
    auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
    INFO(b.err);
    CHECK(b.exit_code == 2);
    CHECK(b.err.find("cert.pem") != std::string::npos);
  }
  SECTION("a missing key file") {
    snp_recipe(t, "      key: k/none.pem\n");
    auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
    CHECK(b.exit_code == 2);
    CHECK(b.err.find("recipe.yaml:12:12: error:") != std::string::npos);
  }
  CHECK(!fs::exists(t / "out"));
}

TEST_CASE("recipe measurements.tdx: pinned TD attributes and XFAM, and MRCONFIGID, in the CoRIM",
          "[corim][tdx][initdata]") {
  TempDir t;
  std::string why;
  const fs::path ovmf = tdx::debian_ovmf(&why);
  const fs::path kernel = ovmf.empty() ? fs::path() : tdx::debian_kernel(&why);
  if (ovmf.empty() || kernel.empty()) {
    skip_or_fail(why);
    return;
  }
  fs::copy_file(ovmf, t / "OVMF.fd");
  fs::copy_file(kernel, t / "vmlinuz");
  write_text(t / "pod.toml", read_text(source_dir() / "tests/data/initdata/coco-sha384.toml"));
  make_key(t / "k", "ed25519");
  write_text(t / "recipe.yaml", R"(name: corim-tdx
version: "1.0"
source_date_epoch: 1700000000
kernel: vmlinuz
cmdline: console=ttyS0
initdata: pod.toml
measurements:
  tdx:
    firmware: OVMF.fd
    td_attributes: "0000001000000000"
    xfam: E702060000000000
exports:
  corim: {sign: {key: k/priv.pem}}
)");
  auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  const json m = json::parse(read_text(t / "out/manifest.json"));
  CHECK(m["measurements"]["tdx"]["td_attributes"] == "0000001000000000");
  CHECK(m["measurements"]["tdx"]["xfam"] == "e702060000000000");
  CHECK(m["measurements"]["tdx"]["mrconfigid"] ==
        initdata_reference(t / "out/initdata.toml")["tdx"]);
  check_independently(t / "out", t / "k/pub.pem");
  // The names Trustee's extractor gives them (tests/js/corim_check.js --trustee).
  const std::string js = (source_dir() / "tests/js/corim_check.js").string();
  if (have_tool("node") && run({"node", js, "--probe"}).exit_code == 0) {
    auto n =
        run({"node", js, "--trustee",
             (source_dir() / "tests/vectors/corim/trustee-unsigned-example-corim.cbor").string(),
             (t / "out/manifest.json").string(), (t / "out/corim.cbor").string()});
    INFO(n.out << n.err);
    CHECK(n.exit_code == 0);
    CHECK(n.out.find("Intel Corporation/TDX/claim82/raw_bytes = \"0000001000000000\"") !=
          std::string::npos);
    CHECK(n.out.find("Intel Corporation/TDX/xfam/raw_bytes = \"e702060000000000\"") !=
          std::string::npos);
    CHECK(n.out.find("Intel Corporation/TDX/mrconfigid/digests") != std::string::npos);
  }
  // A malformed pin is refused at its place.
  write_text(t / "recipe.yaml",
             std::string(read_text(t / "recipe.yaml"))
                 .replace(read_text(t / "recipe.yaml").find("E702060000000000"), 16, "E70206"));
  auto e = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out2"}, {}, t.path());
  CHECK(e.exit_code == 2);
  CHECK(e.err.find("recipe.yaml:11:11: error: 'xfam' must be the TD report's 8 bytes") !=
        std::string::npos);
}

}  // namespace
}  // namespace mkguest::test
