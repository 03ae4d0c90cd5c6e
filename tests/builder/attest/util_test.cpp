// Helpers of the attestation exports: base64 against RFC 4648 §10's test
// vectors (and coreutils base64), strictness, RFC 3339 time, string collection.
#include <catch2/catch.hpp>

#include "base/error.h"
#include "builder/attest/se_hdr.h"
#include "builder/manifest/json_util.h"
#include "tests/attest_fixture.h"
#include "tests/test_util.h"

namespace mkguest::test {
namespace {

using namespace mkguest::attest;

TEST_CASE("base64: RFC 4648 vectors, both ways", "[attest]") {
  const std::pair<const char*, const char*> v[] = {{"", ""},
                                                   {"f", "Zg=="},
                                                   {"fo", "Zm8="},
                                                   {"foo", "Zm9v"},
                                                   {"foob", "Zm9vYg=="},
                                                   {"fooba", "Zm9vYmE="},
                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : v) {
    CHECK(base64_encode(std::string_view(plain)) == enc);
    Bytes out;
    REQUIRE(base64_decode(enc, &out));
    CHECK(std::string(out.begin(), out.end()) == plain);
  }
  Bytes all = pseudo_bytes(1000, 9);
  TempDir t;
  write_text(t / "bin", std::string(all.begin(), all.end()));
  auto r = run({"base64", "-w0", (t / "bin").string()});
  CHECK(base64_encode(all) == r.out);
}

TEST_CASE("base64: strict decoding", "[attest]") {
  Bytes out;
  for (const char* bad :
       {"Zg=", "Zg", "Z===", "Zh==", "Zm9=v", "Zm 9v", "Zm9v\n", "Zm9-", "====", "Zg==Zg=="})
    CHECK_FALSE(base64_decode(bad, &out));
}

TEST_CASE("collect_strings, is_hex, rfc3339", "[attest]") {
  json v = {{"b", json::array({"AB", "cd"})}, {"a", "ab"}};
  CHECK(collect_strings(v) == std::vector<std::string>{"ab", "cd"});
  CHECK(is_hex("00ff"));
  CHECK_FALSE(is_hex("0f0"));
  CHECK_FALSE(is_hex("zz"));
  CHECK(rfc3339_utc(0) == "1970-01-01T00:00:00Z");
  CHECK(rfc3339_utc(1700000000) == "2023-11-14T22:13:20Z");
}

TEST_CASE("manifest: version and shape are checked", "[attest]") {
  CHECK_THROWS_AS(parse_manifest("[]", "m"), InputError);
  CHECK_THROWS_AS(parse_manifest("{\"manifest_version\": 2}", "m"), InputError);
  CHECK_THROWS_AS(parse_manifest("{", "m"), InputError);
  CHECK(parse_manifest("{\"manifest_version\": 1}", "m").is_object());
}

TEST_CASE("SE header: found where pvextract-hdr looks, errors name the offset", "[attest][se]") {
  SeImage se = make_se_image();
  SeHeader h = find_se_header(se.image, "se.img");
  CHECK(h.offset == 0x14000);
  CHECK(h.tag == se.tag);
  CHECK(h.phkh == se.phkh);
  // Bare header.
  SeHeader bare = find_se_header(h.bytes, "hdr.bin");
  CHECK(bare.bytes == h.bytes);
  // A wrong size field.
  Bytes broken = h.bytes;
  broken[0x0f] ^= 0x10;
  try {
    find_se_header(broken, "hdr.bin");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("hdr.bin:0xc: error: SE header size") != std::string::npos);
  }
  CHECK_THROWS_WITH(find_se_header(Bytes(0x20000), "x"), Catch::Contains("no IBM SE header"));
}

}  // namespace
}  // namespace mkguest::test
