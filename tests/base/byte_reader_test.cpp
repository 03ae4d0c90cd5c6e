#include "base/byte_reader.h"

#include <catch2/catch.hpp>
#include <vector>

#include "base/byte_writer.h"

using namespace mkguest;

TEST_CASE("ByteReader reads both endiannesses", "[base]") {
  std::vector<std::uint8_t> b{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  ByteReader r(b, "x.bin");
  CHECK(r.le16(0) == 0x0201);
  CHECK(r.be16(0) == 0x0102);
  CHECK(r.le32(4) == 0x08070605u);
  CHECK(r.be32(4) == 0x05060708u);
  CHECK(r.le64(0) == 0x0807060504030201ull);
  CHECK(r.be64(0) == 0x0102030405060708ull);
}

TEST_CASE("ByteReader names source and absolute offset on overrun", "[base]") {
  std::vector<std::uint8_t> b(16);
  ByteReader outer(b, "OVMF.fd", 0x1000);
  ByteReader inner = outer.sub(8, 8);
  CHECK(inner.absolute(0) == 0x1008);
  try {
    inner.le32(6);
    FAIL("no throw");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) ==
          "OVMF.fd:0x100e: error: 32-bit field (4 bytes) runs past the end of "
          "the input (size 0x1010)");
  }
  // Huge lengths must not wrap around.
  CHECK_FALSE(outer.has(8, SIZE_MAX));
  CHECK_FALSE(outer.has(SIZE_MAX, 1));
  CHECK_THROWS_AS(outer.bytes(1, SIZE_MAX), InputError);
}

TEST_CASE("ByteWriter emits and patches endian-typed fields", "[base]") {
  ByteWriter w;
  w.le32(0x11223344);
  w.be16(0xaabb);
  w.align(8);
  CHECK(w.size() == 8);
  w.patch_le32(0, 0x01020304);
  ByteReader r(w.bytes(), "w");
  CHECK(r.le32(0) == 0x01020304u);
  CHECK(r.be16(4) == 0xaabb);
  CHECK_THROWS_AS(w.patch_le64(4, 1), InternalError);
}
