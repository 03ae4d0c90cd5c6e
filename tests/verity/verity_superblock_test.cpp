// The verity superblock: encode equals what veritysetup writes, strict parse.
#include <catch2/catch.hpp>

#include "base/error.h"
#include "base/file.h"
#include "tests/verity_test_util.h"
#include "verity/superblock.h"
#include "verity/verity_file.h"

using namespace mkguest;
using namespace mkguest::verity;
using namespace mkguest::test;

namespace {
VerityParams sample() {
  VerityParams p;
  p.hash = HashAlg::kSha512;
  p.hash_type = 0;
  p.data_block_size = 1024;
  p.hash_block_size = 2048;
  p.data_blocks = 77;
  p.salt = {0xde, 0xad, 0xbe, 0xef};
  p.uuid = *parse_uuid("12345678-1234-5678-9abc-def012345678");
  return p;
}
}  // namespace

TEST_CASE("verity superblock: bytes equal veritysetup's and parse back", "[verity]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  TempDir t;
  VerityParams p = sample();
  write_file(t / "data", pattern_data(77 * 1024, 1));
  veritysetup_format(t / "data", t / "hash", p);
  Bytes file = read_file(t / "hash");
  Bytes sb = encode_superblock(p);
  REQUIRE(sb.size() == 512);
  CHECK(Bytes(file.begin(), file.begin() + 512) == sb);

  VerityParams q = read_superblock(t / "hash", 0);
  CHECK(q.hash == p.hash);
  CHECK(q.hash_type == p.hash_type);
  CHECK(q.data_block_size == p.data_block_size);
  CHECK(q.hash_block_size == p.hash_block_size);
  CHECK(q.data_blocks == p.data_blocks);
  CHECK(q.salt == p.salt);
  CHECK(q.uuid == p.uuid);
  CHECK(q.superblock);
}

TEST_CASE("verity superblock: strict parse rejects damage with its offset", "[verity]") {
  const Bytes good = encode_superblock(sample());
  auto reject = [&](std::size_t off, std::uint8_t value, const char* what) {
    Bytes b = good;
    b[off] = value;
    try {
      parse_superblock(ByteReader(b, "hash.img", 0x1000));
      FAIL("accepted: " << what);
    } catch (const InputError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find("hash.img:0x") == 0);
    }
  };
  reject(0, 'V', "signature");
  reject(8, 2, "version");
  reject(12, 2, "hash type");
  reject(32, 'x', "algorithm");
  reject(40, 'x', "byte after the algorithm's NUL");
  reject(65, 0x11, "data block size not a power of two");
  reject(69, 0, "hash block size 0");
  reject(81, 2, "salt size > 256");
  reject(84, 1, "reserved");
  reject(88 + 4, 1, "salt tail");
  reject(511, 1, "padding");
  Bytes zero_blocks = good;
  std::fill(zero_blocks.begin() + 72, zero_blocks.begin() + 80, 0);
  CHECK_THROWS_AS(parse_superblock(ByteReader(zero_blocks, "h")), InputError);
  CHECK_THROWS_AS(parse_superblock(ByteReader(std::span(good).first(511), "h")), InputError);
  CHECK(parse_superblock(ByteReader(good, "h", 4096)).hash_offset == 4096);
}
