// CoRIM export (builder/attest/corim, cbor, cose): every CoRIM made here is
// read back by two independent decoders, tests/builder/attest/corim_check.py
// (python3-cbor2 for CBOR, python3-cryptography for COSE signatures) and
// tests/js/corim_check.js (node with the npm `cbor` and `cose-js` packages,
// scripts/fetch-npm-modules), which find each manifest value under the profile
// keys, check the deterministic encoding, verify signatures, and reject them
// after one payload byte changes.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "builder/attest/cbor.h"
#include "builder/attest/corim.h"
#include "tests/attest_fixture.h"
#include "tests/test_util.h"

namespace mkguest::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* kPython = "/usr/bin/python3";

bool have_cbor2() {
  if (run({kPython, "-c", "import cbor2, cryptography"}).exit_code == 0) return true;
  skip_or_fail("python3-cbor2 or python3-cryptography missing: run scripts/install-deps --test");
  return false;
}

std::string checker() { return (source_dir() / "tests/builder/attest/corim_check.py").string(); }

void write_bytes(const fs::path& p, const Bytes& b) {
  write_text(p, std::string(b.begin(), b.end()));
}

Bytes read_bytes(const fs::path& p) {
  std::string s = read_text(p);
  return Bytes(s.begin(), s.end());
}

std::string js_checker() { return (source_dir() / "tests/js/corim_check.js").string(); }

// node and the npm modules of tests/js/package-lock.json (exit 3: not fetched).
bool have_node() {
  if (have_tool("node") && run({"node", js_checker(), "--probe"}).exit_code == 0) return true;
  skip_or_fail(
      "node or the npm modules cbor/cose-js missing: run scripts/install-deps --test and "
      "scripts/fetch-npm-modules");
  return false;
}

void check_with_node(const fs::path& manifest, const fs::path& corim,
                     const std::vector<std::string>& extra = {}) {
  if (!have_node()) return;
  std::vector<std::string> argv{"node", js_checker(), manifest.string(), corim.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = run(argv);
  INFO("node: " << r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "OK\n");
}

// Both independent decoders: python3-cbor2 and node's cbor/cose-js.
void check_with_python(const fs::path& manifest, const fs::path& corim,
                       const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{kPython, checker(), manifest.string(), corim.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = run(argv);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "OK\n");
  check_with_node(manifest, corim, extra);
}

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

void make_key(const fs::path& dir, const std::string& kind) {
  fs::create_directories(dir);
  std::vector<std::string> gen{"genpkey", "-out", (dir / "priv.pem").string()};
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

TEST_CASE("cbor: encodings of RFC 8949 Appendix A", "[corim]") {
  namespace c = attest::cbor;
  // Vectors: RFC 8949 Appendix A (Examples of Encoded CBOR Data Items).
  CHECK(to_hex(c::encode(c::uint(0))) == "00");
  CHECK(to_hex(c::encode(c::uint(23))) == "17");
  CHECK(to_hex(c::encode(c::uint(24))) == "1818");
  CHECK(to_hex(c::encode(c::uint(1000))) == "1903e8");
  CHECK(to_hex(c::encode(c::uint(1000000))) == "1a000f4240");
  CHECK(to_hex(c::encode(c::uint(1000000000000))) == "1b000000e8d4a51000");
  CHECK(to_hex(c::encode(c::integer(-1))) == "20");
  CHECK(to_hex(c::encode(c::integer(-1000))) == "3903e7");
  CHECK(to_hex(c::encode(c::text("IETF"))) == "6449455446");
  CHECK(to_hex(c::encode(c::bytes(Bytes{1, 2, 3, 4}))) == "4401020304");
  CHECK(to_hex(c::encode(c::tag(1, c::uint(1363896240)))) == "c11a514b67b0");
  CHECK(to_hex(c::encode(c::array({c::uint(1), c::array({c::uint(2), c::uint(3)}),
                                   c::array({c::uint(4), c::uint(5)})}))) == "8301820203820405");
  // {"a": 1, "b": [2, 3]}, given in the other order.
  CHECK(to_hex(c::encode(c::map({{c::text("b"), c::array({c::uint(2), c::uint(3)})},
                                 {c::text("a"), c::uint(1)}}))) == "a26161016162820203");
  CHECK_THROWS_AS(c::map({{c::uint(1), c::uint(1)}, {c::uint(1), c::uint(2)}}), ValueError);
}

TEST_CASE("cbor: map keys in bytewise order, checked by an independent walker", "[corim]") {
  if (!have_cbor2()) return;
  namespace c = attest::cbor;
  TempDir t;
  // Keys whose bytewise order (RFC 8949 §4.2.1) differs from the length-first
  // order of RFC 7049 §3.9: 256 (19 01 00) sorts before "a" (61 61).
  std::vector<std::pair<c::Item, c::Item>> e;
  for (std::int64_t k : {256, -1, 0, 24, -25, 23, 1000000})
    e.emplace_back(c::integer(k), c::uint(static_cast<std::uint64_t>(k < 0 ? -k : k)));
  for (const char* k : {"b", "a", "aa", ""}) e.emplace_back(c::text(k), c::boolean(true));
  e.emplace_back(c::bytes(Bytes{0xff}), c::map({}));
  Bytes enc = c::encode(c::map(e));
  write_bytes(t / "m.cbor", enc);
  auto r = run({kPython, "-c",
                "import sys, cbor2\n"
                "raw = open(sys.argv[1], 'rb').read()\n"
                "m = cbor2.loads(raw)\n"
                "keys = [cbor2.dumps(k) for k in m]\n"
                "assert keys == sorted(keys), keys\n"
                "assert len(m) == 12\n"
                "assert m[256] == 256 and m[-25] == 25 and m[b'\\xff'] == {}\n"
                "print('OK')\n",
                (t / "m.cbor").string()});
  INFO(r.err);
  CHECK(r.out == "OK\n");
}

TEST_CASE("corim: unsigned CoRIM of SNP, TDX, vTPM and SE values, read by cbor2", "[corim]") {
  if (!have_cbor2()) return;
  TempDir t;
  json m = make_outdir(t / "out");
  Bytes corim = attest::corim_unsigned(m, {}, "manifest.json");
  write_bytes(t / "corim.cbor", corim);
  check_with_python(t / "out/manifest.json", t / "corim.cbor");
  // The same manifest gives the same bytes.
  CHECK(attest::corim_unsigned(m, {}, "manifest.json") == corim);
  // A malformed value is refused with its place.
  json bad = m;
  bad["measurements"]["tdx"]["rtmr_1"] = "abcd";
  CHECK_THROWS_AS(attest::corim_unsigned(bad, {}, "manifest.json"), InputError);
  json none = m;
  none["measurements"] = json::object();
  CHECK_THROWS_AS(attest::corim_unsigned(none, {}, "manifest.json"), InputError);
}

TEST_CASE("corim: the init-data bindings HOST_DATA and MRCONFIGID, read by cbor2", "[corim]") {
  if (!have_cbor2()) return;
  TempDir t;
  json m = make_outdir(t / "out");
  // As the build's bind-initdata stage writes them (docs/kata.md).
  m["measurements"]["snp"]["host_data"] = std::string(64, 'a');
  m["measurements"]["tdx"]["mrconfigid"] = std::string(96, 'b');
  write_text(t / "out/manifest.json", m.dump());
  write_bytes(t / "corim.cbor", attest::corim_unsigned(m, {}, "manifest.json"));
  check_with_python(t / "out/manifest.json", t / "corim.cbor");
}

TEST_CASE("corim: the coco-guest golden manifest's values, read by cbor2", "[corim]") {
  if (!have_cbor2()) return;
  TempDir t;
  fs::path manifest = source_dir() / "tests/golden/coco-guest/manifest.json";
  json m = json::parse(read_text(manifest));
  write_bytes(t / "corim.cbor", attest::corim_unsigned(m, {}, manifest.string()));
  check_with_python(manifest, t / "corim.cbor");
}

TEST_CASE("corim: export corim signs with ES256, ES384 and EdDSA and verify-signature agrees",
          "[corim]") {
  if (!have_cbor2()) return;
  TempDir t;
  make_outdir(t / "out");
  fs::path manifest = t / "out/manifest.json";
  for (std::string kind : {"ec256", "ec384", "ed25519"}) {
    INFO(kind);
    make_key(t / kind, kind);
    fs::path cose = t / (kind + ".cose");
    auto s = run_mkguest({"export", "corim", manifest.string(), "--key",
                          (t / kind / "priv.pem").string(), "-o", cose.string()});
    INFO(s.err);
    REQUIRE(s.exit_code == 0);
    check_with_python(manifest, cose, {"--cose", (t / kind / "pub.pem").string()});
    auto v =
        run_mkguest({"verify-signature", cose.string(), "--key", (t / kind / "pub.pem").string(),
                     "--payload-out", (t / "payload.cbor").string()});
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
    CHECK(v.out.find(": OK (application/rim+cbor") != std::string::npos);
    // The verified payload is the unsigned CoRIM.
    auto u = run_mkguest({"export", "corim", manifest.string(), "-o", (t / "u.cbor").string()});
    REQUIRE(u.exit_code == 0);
    CHECK(read_bytes(t / "payload.cbor") == read_bytes(t / "u.cbor"));
    // One payload byte changed: exit 1 (mismatch), as for DSSE.
    // (a byte of the first SNP launch digest, 48 bytes of 0x11 in the fixture).
    Bytes b = read_bytes(cose);
    const Bytes digest(48, 0x11);
    auto at = std::search(b.begin(), b.end(), digest.begin(), digest.end());
    REQUIRE(at != b.end());
    at[20] ^= 1;
    write_bytes(t / "bad.cose", b);
    auto w = run_mkguest(
        {"verify-signature", (t / "bad.cose").string(), "--key", (t / kind / "pub.pem").string()});
    CHECK(w.exit_code == 1);
    CHECK(w.out.find("FAILED") != std::string::npos);
    // Another key: exit 1.
    auto o = run_mkguest({"verify-signature", cose.string(), "--key",
                          (t / (kind == "ed25519" ? "ec256" : "ed25519") / "pub.pem").string()});
    if (kind != "ed25519") make_key(t / "ed25519", "ed25519");
    CHECK(o.exit_code != 0);
  }
}

TEST_CASE(
    "corim: a CoRIM signed with a fixed key is byte-identical across directories and time zones",
    "[corim]") {
  // Ed25519 is deterministic (RFC 8032); ECDSA from a PEM key is too (RFC 6979,
  // builder/keys/rfc6979.h).
  for (const std::string kind : {"ed25519", "ec256", "ec384"}) {
    INFO(kind);
    TempDir t;
    make_outdir(t / "a/out");
    fs::create_directories(t / "b");
    fs::copy(t / "a/out", t / "b/out", fs::copy_options::recursive);
    make_key(t / "k", kind);
    std::string key = (t / "k/priv.pem").string();
    auto a =
        run_mkguest({"export", "corim", "out", "--key", key, "-o", "c.cose"}, {"TZ=UTC"}, t / "a");
    auto b = run_mkguest({"export", "corim", "out", "--key", key, "-o", "c.cose"},
                         {"TZ=Pacific/Kiritimati"}, t / "b");
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    CHECK(read_bytes(t / "a/c.cose") == read_bytes(t / "b/c.cose"));
  }
}

TEST_CASE("corim: signed with a key on a PKCS#11 token (SoftHSM)", "[corim]") {
  const fs::path module = "/usr/lib/softhsm/libsofthsm2.so";
  if (!have_tool("softhsm2-util") || !fs::exists(module) ||
      !fs::exists("/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so")) {
    skip_or_fail(
        "softhsm2 or libengine-pkcs11-openssl is not installed (scripts/install-deps --test)");
    return;
  }
  if (!have_cbor2()) return;
  TempDir t;
  make_outdir(t / "out");
  fs::create_directories(t / "tokens");
  write_text(t / "softhsm2.conf", "directories.tokendir = " + (t / "tokens").string() +
                                      "\nobjectstore.backend = file\nlog.level = ERROR\n");
  std::string conf = "SOFTHSM2_CONF=" + (t / "softhsm2.conf").string();
  REQUIRE(run({"softhsm2-util", "--init-token", "--free", "--label", "release", "--pin", "4321",
               "--so-pin", "8765"},
              {conf})
              .exit_code == 0);
  make_key(t / "k", "ec384");
  REQUIRE(run({"softhsm2-util", "--import", (t / "k/priv.pem").string(), "--token", "release",
               "--label", "signer", "--id", "01", "--pin", "4321"},
              {conf})
              .exit_code == 0);
  auto s =
      run_mkguest({"export", "corim", (t / "out").string(), "--pkcs11-uri",
                   "pkcs11:token=release;object=signer;type=private", "--pkcs11-module",
                   module.string(), "--passphrase-env", "TOKEN_PIN", "-o", (t / "c.cose").string()},
                  {conf, "TOKEN_PIN=4321"});
  INFO(s.err);
  REQUIRE(s.exit_code == 0);
  check_with_python(t / "out/manifest.json", t / "c.cose", {"--cose", (t / "k/pub.pem").string()});
}

TEST_CASE("corim: the node decoder refuses a changed payload byte and a changed value", "[corim]") {
  if (!have_node()) return;
  TempDir t;
  make_outdir(t / "out");
  const fs::path manifest = t / "out/manifest.json";
  make_key(t / "ec256", "ec256");
  make_key(t / "ed25519", "ed25519");
  for (std::string kind : {"ec256", "ed25519"}) {
    INFO(kind);
    const fs::path cose = t / (kind + ".cose"), pub = t / kind / "pub.pem";
    REQUIRE(run_mkguest({"export", "corim", manifest.string(), "--key",
                         (t / kind / "priv.pem").string(), "-o", cose.string()})
                .exit_code == 0);
    check_with_node(manifest, cose, {"--cose", pub.string()});
    // A byte of the first SNP launch digest (48 bytes of 0x11 in the fixture).
    Bytes b = read_bytes(cose);
    const Bytes digest(48, 0x11);
    auto at = std::search(b.begin(), b.end(), digest.begin(), digest.end());
    REQUIRE(at != b.end());
    at[7] ^= 0x40;
    write_bytes(t / "bad.cose", b);
    auto r = run({"node", js_checker(), manifest.string(), (t / "bad.cose").string(), "--cose",
                  pub.string()});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("signature does not verify") != std::string::npos);
    // The other key.
    r = run({"node", js_checker(), manifest.string(), cose.string(), "--cose",
             (t / (kind == "ec256" ? "ed25519" : "ec256") / "pub.pem").string()});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("kid is not SHA-256 of the SPKI") != std::string::npos);
  }
  // A manifest value the CoRIM does not hold.
  json m = json::parse(read_text(manifest));
  m["measurements"]["tdx"]["rtmr_2"] = std::string(96, 'c');
  write_text(t / "other.json", m.dump());
  auto r = run({"node", js_checker(), (t / "other.json").string(), (t / "ec256.cose").string(),
                "--cose", (t / "ec256/pub.pem").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.out == "tdx rtmr2\n");
}

TEST_CASE("corim: Trustee's example CoRIM and ours share tags, triple layout and keys (node)",
          "[corim]") {
  if (!have_node()) return;
  TempDir t;
  json m = make_outdir(t / "out");
  // TDATTRIBUTES and XFAM as a recipe pins them (measurements.tdx).
  m["measurements"]["tdx"]["td_attributes"] = "0000001000000000";
  m["measurements"]["tdx"]["xfam"] = "e702060000000000";
  write_text(t / "out/manifest.json", m.dump());
  write_bytes(t / "corim.cbor", attest::corim_unsigned(m, {}, "manifest.json"));
  check_with_python(t / "out/manifest.json", t / "corim.cbor");
  const std::string theirs =
      (source_dir() / "tests/vectors/corim/trustee-unsigned-example-corim.cbor").string();
  auto r = run({"node", js_checker(), "--trustee", theirs, (t / "out/manifest.json").string(),
                (t / "corim.cbor").string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  for (const char* name :
       {"Intel Corporation/TDX/mrtd/digests", "Intel Corporation/TDX/rtmr1/digests",
        "Intel Corporation/TDX/claim82/raw_bytes", "Intel Corporation/TDX/xfam/raw_bytes",
        "claim641/digests", "claim2/raw_bytes", "TCG/vTPM/claim4/UKI/digests",
        "IBM/Secure Execution/tag/raw_bytes", "IBM/Secure Execution/image_phkh/digests"})
    CHECK(r.out.find(std::string(name) + " = ") != std::string::npos);
  // The checker can fail: a CoRIM whose digests are not [alg, bytes] pairs.
  namespace c = attest::cbor;
  Bytes comid = c::encode(c::map(
      {{c::uint(1), c::map({{c::uint(0), c::text("x/tdx")}})},
       {c::uint(4),
        c::map({{c::uint(0),
                 c::array({c::array(
                     {c::map({{c::uint(0), c::map({{c::uint(1), c::text("Intel Corporation")},
                                                   {c::uint(2), c::text("TDX")}})}}),
                      c::array({c::map(
                          {{c::uint(0), c::text("mrtd")},
                           {c::uint(1), c::map({{c::uint(2), c::array({c::bytes(
                                                                 Bytes(48, 1))})}})}})})})})}})}}));
  Bytes corim = c::encode(
      c::tag(attest::kCborTagCorim,
             c::map({{c::uint(0), c::text("x")},
                     {c::uint(1), c::array({c::tag(attest::kCborTagComid, c::bytes(comid))})}})));
  write_bytes(t / "odd.cbor", corim);
  r = run({"node", js_checker(), "--trustee", theirs, (t / "out/manifest.json").string(),
           (t / "odd.cbor").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("triple layout differs from Trustee's") != std::string::npos);
}

TEST_CASE("corim: verify-signature refuses a malformed signed CoRIM with its offset", "[corim]") {
  TempDir t;
  write_bytes(t / "x.cose", Bytes{0xd2, 0x84, 0x40, 0xa0, 0x40});  // truncated
  make_key(t / "k", "ed25519");
  auto r = run_mkguest(
      {"verify-signature", (t / "x.cose").string(), "--key", (t / "k/pub.pem").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("x.cose:0x") != std::string::npos);
}

}  // namespace
}  // namespace mkguest::test
