#include "base/digest.h"

#include <catch2/catch.hpp>

using namespace mkguest;

TEST_CASE("digests match published test vectors", "[base]") {
  // FIPS 180-2 "abc" vectors.
  CHECK(to_hex(digest(HashAlg::kSha1, "abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(to_hex(digest(HashAlg::kSha256, "abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(digest(HashAlg::kSha384, "abc")).substr(0, 16) == "cb00753f45a35e8b");
  CHECK(to_hex(digest(HashAlg::kSha512, "abc")).substr(0, 16) == "ddaf35a193617aba");
}

TEST_CASE("streaming equals one-shot, and clone keeps state", "[base]") {
  Hasher h(HashAlg::kSha256);
  h.update("a");
  Hasher c = h.clone();
  h.update("bc");
  c.update("bc");
  auto one = digest(HashAlg::kSha256, "abc");
  CHECK(h.finish() == one);
  CHECK(c.finish() == one);
  // finish() resets.
  CHECK(h.update("abc").finish() == one);
}

TEST_CASE("hex round trip and rejection", "[base]") {
  Bytes b;
  REQUIRE(from_hex("00ffA0", &b));
  CHECK(b == Bytes{0x00, 0xff, 0xa0});
  CHECK(to_hex(b) == "00ffa0");
  CHECK_FALSE(from_hex("abc", &b));
  CHECK_FALSE(from_hex("zz", &b));
  HashAlg a;
  CHECK(parse_hash_alg("sha384", &a));
  CHECK(a == HashAlg::kSha384);
  CHECK_FALSE(parse_hash_alg("md5", &a));
}
