// Geometry planning: the numbers of docs/specs/verity-rootfs.md §1.2 and the parameter checks.
#include <catch2/catch.hpp>

#include "base/error.h"
#include "verity/geometry.h"

using namespace mkguest;
using namespace mkguest::verity;

TEST_CASE("verity geometry: the spec's 1 GiB numbers and level layout", "[verity]") {
  VerityParams p;
  p.data_blocks = 262144;  // 1 GiB at 4 KiB
  VerityGeometry g = plan_verity(p);
  CHECK(g.per_block == 128);
  CHECK(g.per_block_bits == 7);
  REQUIRE(g.levels.size() == 3);
  CHECK(g.levels[0].blocks == 2048);
  CHECK(g.levels[1].blocks == 16);
  CHECK(g.levels[2].blocks == 1);
  CHECK(g.tree_blocks == 2065);
  // Stored top-down after the superblock block: root block first, leaves last.
  CHECK(g.hash_start_block == 1);
  CHECK(g.levels[2].first_block == 1);
  CHECK(g.levels[1].first_block == 2);
  CHECK(g.levels[0].first_block == 18);
  CHECK(g.hash_end == 2066 * 4096);  // 8 462 336 bytes
  CHECK(g.output_size == g.hash_end);
  CHECK(g.data_sectors() == 2097152);
  p.superblock = false;
  CHECK(plan_verity(p).hash_end == 2065 * 4096);
  CHECK(verity_hash_size(p) == 2065 * 4096);
  // A 4 MiB offset: the tree starts at block 1025 with a superblock, 1024 without.
  p.hash_offset = 4 << 20;
  CHECK(plan_verity(p).hash_start_block == 1024);
  p.superblock = true;
  CHECK(plan_verity(p).hash_start_block == 1025);
}

TEST_CASE("verity geometry: slots, single blocks and boundaries", "[verity]") {
  VerityParams p;
  p.data_blocks = 1;
  VerityGeometry one = plan_verity(p);
  CHECK(one.levels.empty());
  CHECK(one.tree_blocks == 0);
  CHECK(one.output_size == 4096);  // cryptsetup's header write: min(B, 4096)
  p.hash_block_size = 65536;
  CHECK(plan_verity(p).output_size == 4096);
  CHECK(plan_verity(p).hash_end == 65536);
  p.superblock = false;
  CHECK(plan_verity(p).output_size == 0);

  VerityParams s;
  s.hash = HashAlg::kSha1;
  s.data_blocks = 129;
  CHECK(plan_verity(s).slot_size == 32);   // padded to a power of two
  CHECK(plan_verity(s).per_block == 128);  // 4096 / 20 = 204 -> 128
  s.hash_type = 0;
  CHECK(plan_verity(s).slot_size == 20);  // packed
  s.hash = HashAlg::kSha512;
  s.hash_block_size = 512;
  CHECK(plan_verity(s).per_block == 8);
  for (std::uint64_t n : {8u, 9u, 64u, 65u}) {
    s.data_blocks = n;
    CHECK(plan_verity(s).levels.size() == (n <= 8 ? 1u : n <= 64 ? 2u : 3u));
  }
}

TEST_CASE("verity geometry: invalid parameters are refused", "[verity]") {
  auto bad = [](auto change) {
    VerityParams p;
    p.data_blocks = 10;
    change(p);
    CHECK_THROWS_AS(plan_verity(p), ValueError);
  };
  bad([](VerityParams& p) { p.data_blocks = 0; });
  bad([](VerityParams& p) { p.data_block_size = 3000; });
  bad([](VerityParams& p) { p.hash_block_size = 256; });
  bad([](VerityParams& p) { p.data_block_size = 1 << 20; });
  bad([](VerityParams& p) { p.hash_type = 2; });
  bad([](VerityParams& p) { p.salt.resize(257); });
  bad([](VerityParams& p) { p.hash_offset = 100; });
  bad([](VerityParams& p) { p.data_blocks = UINT64_MAX / 2; });
}
