// SecretBytes (base/secret.h): holds the bytes with a NUL after them, moves
// leave the source empty; base/encoding.h's 0x numbers and is_hex.
#include <catch2/catch.hpp>

#include "base/encoding.h"
#include "base/secret.h"

namespace mkguest::test {
namespace {

TEST_CASE("SecretBytes keeps its bytes NUL-terminated and moves empty the source", "[base]") {
  SecretBytes a(std::string_view("pin1"));
  CHECK(a.size() == 4);
  CHECK(a.view() == "pin1");
  CHECK(std::string(a.c_str()) == "pin1");
  SecretBytes b(std::move(a));
  CHECK(a.empty());
  CHECK(std::string(a.c_str()).empty());
  CHECK(b.view() == "pin1");
  SecretBytes c(Bytes{1, 2, 3});
  CHECK(c.bytes().size() == 3);
  CHECK(c.data()[3] == 0);
  c = std::move(b);
  CHECK(c.view() == "pin1");
}

TEST_CASE("hex_u64 and is_hex", "[base]") {
  CHECK(hex_u64(0) == "0x0");
  CHECK(hex_u64(0x1ffc0) == "0x1ffc0");
  CHECK(is_hex("00fF"));
  CHECK_FALSE(is_hex(""));
  CHECK_FALSE(is_hex("0g"));
  CHECK_FALSE(is_hex("abc"));
}

}  // namespace
}  // namespace mkguest::test
