// The verity tree against `veritysetup format` (cryptsetup-bin 2.6.1, Debian 12)
// run by the test on the same data: root hash AND hash-file bytes identical,
// over a matrix of sizes, level boundaries, salts, hashes, formats, block
// sizes, superblock on/off, separate and appended hash areas.
#include <catch2/catch.hpp>

#include "base/error.h"
#include "base/file.h"
#include "tests/test_util.h"
#include "tests/verity_test_util.h"
#include "verity/derive.h"
#include "verity/tree.h"
#include "verity/verity_file.h"

using namespace mkguest;
using namespace mkguest::verity;
using namespace mkguest::test;

namespace {

struct Case {
  HashAlg hash;
  std::uint32_t format;
  std::uint32_t dbs, hbs;
  std::uint64_t blocks;
  std::size_t salt_size;
  bool superblock;
};

std::string describe(const Case& c) {
  return std::string(hash_name(c.hash)) + " format " + std::to_string(c.format) + " dbs " +
         std::to_string(c.dbs) + " hbs " + std::to_string(c.hbs) + " blocks " +
         std::to_string(c.blocks) + " salt " + std::to_string(c.salt_size) +
         (c.superblock ? " sb" : " nosb");
}

// Separate hash file: the library (SpanSource, 2 threads) and the CLI both
// match veritysetup byte for byte.
void check_separate(const Case& c, bool via_cli) {
  INFO(describe(c));
  TempDir t;
  Bytes data = pattern_data(c.blocks * c.dbs, c.blocks ^ c.dbs);
  write_file(t / "data", data);
  VerityParams p;
  p.hash = c.hash;
  p.hash_type = c.format;
  p.data_block_size = c.dbs;
  p.hash_block_size = c.hbs;
  p.data_blocks = c.blocks;
  p.salt = derive_salt("test", as_bytes(describe(c)), c.salt_size);
  p.uuid = derive_uuid("test", as_bytes(describe(c)));
  p.superblock = c.superblock;

  std::string ref_root = veritysetup_format(t / "data", t / "ref", p);
  REQUIRE(ref_root.size() == 2 * hash_size(c.hash));
  Bytes ref = read_file(t / "ref");

  VerityGeometry g = plan_verity(p);
  TreeOptions opt;
  opt.threads = 2;
  VerityTree tree = build_tree(g, SpanSource(data), opt);
  CHECK(to_hex(tree.root_hash) == ref_root);
  REQUIRE(g.output_size == ref.size());
  CHECK(std::equal(tree.hash_area.begin(), tree.hash_area.end(),
                   ref.begin() + static_cast<std::ptrdiff_t>(g.area_offset)));

  if (via_cli) {
    std::vector<std::string> args = {"verity", "format", (t / "data").string(),
                                     (t / "mine").string()};
    auto more = veritysetup_options(p);
    args.insert(args.end(), more.begin(), more.end());
    RunResult r = run_mkguest(args);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("Root hash:      \t" + ref_root + "\n") != std::string::npos);
    CHECK(read_file(t / "mine") == ref);
  }
}

}  // namespace

TEST_CASE("verity tree: sizes x hashes x formats x superblock match veritysetup", "[verity]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  for (HashAlg h : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha512}) {
    for (std::uint32_t f : {0u, 1u}) {
      for (bool sb : {false, true}) {
        for (std::uint64_t n : {1, 2, 127, 128, 129}) {
          check_separate({h, f, 4096, 4096, n, 32, sb}, n == 129 && h == HashAlg::kSha256);
        }
      }
    }
  }
}

TEST_CASE("verity tree: block sizes 512..64 KiB and level boundaries match veritysetup",
          "[verity]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  // (data, hash) block sizes; mixed sizes included.
  const std::pair<std::uint32_t, std::uint32_t> sizes[] = {
      {512, 512}, {1024, 1024}, {512, 4096}, {4096, 1024}, {65536, 65536}, {1024, 65536}};
  for (auto [dbs, hbs] : sizes) {
    for (std::uint64_t n : {1, 7, 300}) {
      check_separate({HashAlg::kSha256, 1, dbs, hbs, n, 32, true}, false);
    }
  }
  // 512-byte hash blocks hold 16 sha256 digests (8 sha512): levels turn over
  // at 16, 256, 4096 blocks.
  for (std::uint64_t n : {16, 17, 256, 257, 4096, 4097}) {
    check_separate({HashAlg::kSha256, 1, 512, 512, n, 32, n % 2 == 0}, n == 4097);
  }
  for (std::uint64_t n : {64, 65, 512, 513}) {
    check_separate({HashAlg::kSha512, 0, 512, 512, n, 32, false}, false);
  }
  // 4 KiB blocks: the third level starts after 16384 blocks (64 MiB).
  for (std::uint64_t n : {16384, 16385}) {
    check_separate({HashAlg::kSha256, 1, 4096, 4096, n, 32, n == 16385}, false);
  }
}

TEST_CASE("verity tree: salts of 0, 1, 32 and 256 bytes match veritysetup", "[verity]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  for (std::size_t salt : {0, 1, 32, 256}) {
    for (std::uint32_t f : {0u, 1u}) {
      check_separate({HashAlg::kSha256, f, 4096, 4096, 200, salt, f == 1}, salt == 256);
      check_separate({HashAlg::kSha1, f, 1024, 1024, 70, salt, false}, false);
    }
  }
}

TEST_CASE("verity tree: appended hash area (--hash-offset, --data-blocks) matches veritysetup",
          "[verity]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  const std::uint64_t n = 300, dbs = 4096;
  // Hash offsets: right after the data, a gap of one block, and an offset that
  // is not a multiple of the hash block (cryptsetup rounds the tree start down
  // without a superblock, up after one).
  for (std::uint64_t extra : {0ull, 4096ull, 1024ull}) {
    for (bool sb : {true, false}) {
      INFO("extra " << extra << " sb " << sb);
      TempDir t;
      Bytes data = pattern_data(n * dbs, extra + sb);
      write_file(t / "ref", data);
      write_file(t / "mine", data);
      VerityParams p;
      p.data_blocks = n;
      p.salt = derive_salt("appended", {}, 32);
      p.uuid = derive_uuid("appended", {});
      p.superblock = sb;
      p.hash_offset = n * dbs + extra;
      std::string root = veritysetup_format(t / "ref", t / "ref", p);
      Bytes ref = read_file(t / "ref");

      std::vector<std::string> args = {"verity", "format", (t / "mine").string(),
                                       (t / "mine").string()};
      auto more = veritysetup_options(p);
      args.insert(args.end(), more.begin(), more.end());
      RunResult r = run_mkguest(args);
      REQUIRE(r.exit_code == 0);
      CHECK(r.out.find(root) != std::string::npos);
      CHECK(read_file(t / "mine") == ref);
      // Re-running over the file that now holds its hash area gives the same bytes.
      REQUIRE(run_mkguest(args).exit_code == 0);
      CHECK(read_file(t / "mine") == ref);
    }
  }
}

TEST_CASE("verity tree: the spec's fixed vectors (sha256 4096/4096)", "[verity]") {
  // docs/specs/verity-rootfs.md §1.5, produced with veritysetup 2.6.1 (cryptsetup-bin
  // 2:2.6.1-4~deb12u2): `veritysetup format DATA H --salt=$SALT --uuid=$UUID`.
  TempDir t;
  Bytes zero(4194304, 0);
  // pat4m = `seq -w 0 999999 | head -c 4194304`: six digits and a newline each.
  Bytes pat;
  for (int i = 0; pat.size() < 4194304; ++i) {
    char line[16];
    std::snprintf(line, sizeof line, "%06d\n", i);
    pat.insert(pat.end(), line, line + 7);
  }
  pat.resize(4194304);
  REQUIRE(to_hex(digest(HashAlg::kSha256, pat)) ==
          "d4aeab479344b3944259da2beb55448836c8581df19a78b075683c1c853d806e");
  VerityParams p;
  p.data_blocks = 1024;
  from_hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", &p.salt);
  p.uuid = *parse_uuid("12345678-1234-5678-9abc-def012345678");
  struct Vec {
    const Bytes* data;
    const char* root;
    const char* file_sha;
  } vecs[] = {
      {&zero, "e963ee500928cbca3644b9c1ca499aef66988ea188c3600a3d67e9cd7b208296",
       "c45e555353ad420850bd05de1ac5bb8e30961be0f20a15c477ef6b1b55abcf3a"},
      {&pat, "cd70c68d151e903feeed5f0c66219a09cfa8463b1498f0aafadf5f319daca5c2",
       "1d2d7aa41207bedc1cf8c0a8a221f3b3b4609c9fece66cd94f2d22a93eb768f2"},
  };
  for (const auto& v : vecs) {
    VerityGeometry g = plan_verity(p);
    VerityTree tree = build_tree(g, SpanSource(*v.data));
    CHECK(to_hex(tree.root_hash) == v.root);
    CHECK(g.hash_end == 40960);
    CHECK(to_hex(digest(HashAlg::kSha256, tree.hash_area)) == v.file_sha);
  }
}

TEST_CASE("verity tree: a partial last block is an error unless padding is asked", "[verity]") {
  TempDir t;
  Bytes data = pattern_data(3 * 4096 + 100, 7);
  VerityParams p;
  p.data_blocks = 4;
  VerityGeometry g = plan_verity(p);
  CHECK_THROWS_AS(build_tree(g, SpanSource(data)), ValueError);
  TreeOptions pad;
  pad.pad_tail = true;
  VerityTree padded = build_tree(g, SpanSource(data), pad);
  Bytes full = data;
  full.resize(4 * 4096, 0);
  CHECK(build_tree(g, SpanSource(full)).root_hash == padded.root_hash);

  // The CLI refuses the partial block, and --pad extends the file first.
  write_file(t / "data", data);
  RunResult r = run_mkguest({"verity", "format", (t / "data").string(), (t / "h").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("not a multiple of the data block size") != std::string::npos);
  r = run_mkguest(
      {"verity", "format", (t / "data").string(), (t / "h").string(), "--pad", "--salt=-"});
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(t / "data") == full);
  CHECK(r.out.find(to_hex(padded.root_hash)) != std::string::npos);
}

TEST_CASE("verity tree: thread count does not change the bytes", "[verity]") {
  Bytes data = pattern_data(1000 * 512, 3);
  VerityParams p;
  p.data_block_size = 512;
  p.hash_block_size = 512;
  p.data_blocks = 1000;
  p.salt = {1, 2, 3};
  VerityGeometry g = plan_verity(p);
  TreeOptions one, four;
  one.threads = 1;
  four.threads = 4;
  VerityTree a = build_tree(g, SpanSource(data), one);
  VerityTree b = build_tree(g, SpanSource(data), four);
  CHECK(a.root_hash == b.root_hash);
  CHECK(a.hash_area == b.hash_area);
}

TEST_CASE("verity tree: 1 GiB matches veritysetup (slow, run with \"[slow]\")",
          "[.][slow][verity-slow]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  TempDir t;
  {
    // 1 GiB of 8-byte words (a multiplicative pattern), written in 1 MiB pieces.
    std::FILE* f = std::fopen((t / "data").c_str(), "wb");
    REQUIRE(f);
    std::vector<std::uint64_t> words(1 << 17);
    for (std::uint64_t chunk = 0; chunk < 1024; ++chunk) {
      for (std::size_t i = 0; i < words.size(); ++i) {
        words[i] = (chunk * words.size() + i) * 0x9e3779b97f4a7c15ull;
      }
      REQUIRE(std::fwrite(words.data(), 8, words.size(), f) == words.size());
    }
    REQUIRE(std::fclose(f) == 0);
  }
  for (bool sb : {false, true}) {
    VerityParams p;
    p.data_blocks = 262144;
    p.salt = derive_salt("1 GiB", {}, 32);
    p.uuid = derive_uuid("1 GiB", {});
    p.superblock = sb;
    std::string root = veritysetup_format(t / "data", t / "ref", p);
    VerityGeometry g = plan_verity(p);
    VerityTree tree = format_files(t / "data", t / "mine", g);
    CHECK(to_hex(tree.root_hash) == root);
    CHECK(read_file(t / "mine") == read_file(t / "ref"));
    CHECK(g.output_size == (sb ? 8462336u : 8458240u));  // spec §1.2: 2065 (+1) blocks
  }
}
