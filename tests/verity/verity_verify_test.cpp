// Verification through libcryptsetup: good trees pass, a flipped byte fails
// both `mkguest verity verify` and `veritysetup verify`, with the first bad
// block named. Also the salt/UUID derivation.
#include <catch2/catch.hpp>

#include "base/file.h"
#include "tests/verity_test_util.h"
#include "verity/derive.h"
#include "verity/tree.h"
#include "verity/verity_file.h"

using namespace mkguest;
using namespace mkguest::verity;
using namespace mkguest::test;

namespace {
void flip(const std::filesystem::path& p, std::size_t off) {
  Bytes b = read_file(p);
  b.at(off) ^= 0x40;
  write_file(p, b);
}
}  // namespace

TEST_CASE("verity verify: a flipped byte fails mkguest and veritysetup", "[verity]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  for (bool sb : {true, false}) {
    TempDir t;
    const std::uint64_t n = 1000;  // two tree levels at 4 KiB
    write_file(t / "data", pattern_data(n * 4096, 5));
    VerityParams p;
    p.data_blocks = n;
    p.salt = derive_salt("verify", {}, 32);
    p.uuid = derive_uuid("verify", {});
    p.superblock = sb;
    VerityGeometry g = plan_verity(p);
    VerityTree tree = format_files(t / "data", t / "hash", g);
    const std::string root = to_hex(tree.root_hash);
    std::vector<std::string> opts = veritysetup_options(p);
    auto mk_verify = [&](const std::filesystem::path& data, const std::filesystem::path& hash) {
      std::vector<std::string> a = {"verity", "verify", data.string(), hash.string(), root};
      if (sb) {
        a.push_back("--hash-offset=0");
      } else {
        a.insert(a.end(), opts.begin(), opts.end());
      }
      return run_mkguest(a);
    };
    INFO("superblock " << sb);
    CHECK(mk_verify(t / "data", t / "hash").exit_code == 0);
    CHECK(veritysetup_verify(t / "data", t / "hash", root, p) == 0);
    VerifyResult ok = verify_files(t / "data", t / "hash", p, tree.root_hash);
    CHECK(ok.ok);

    // A data byte in block 700.
    std::filesystem::copy_file(t / "data", t / "bad");
    flip(t / "bad", 700 * 4096 + 33);
    RunResult r = mk_verify(t / "bad", t / "hash");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("data block 700 (byte offset 2867200)") != std::string::npos);
    CHECK(r.err.find("position 2867200") != std::string::npos);
    CHECK(veritysetup_verify(t / "bad", t / "hash", root, p) != 0);

    // A byte of the leaf level: the slot of data block 300.
    std::filesystem::copy_file(t / "hash", t / "badhash");
    const std::uint64_t slot = g.level_offset(0) + 300 * 32 + 5;
    flip(t / "badhash", slot);
    r = mk_verify(t / "data", t / "badhash");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("hash block " + std::to_string(g.levels[0].first_block + 2)) !=
          std::string::npos);
    CHECK(veritysetup_verify(t / "data", t / "badhash", root, p) != 0);

    // The root block.
    std::filesystem::copy_file(t / "hash", t / "badroot");
    flip(t / "badroot", g.level_offset(1) + 1);
    VerifyResult vr = verify_files(t / "data", t / "badroot", p, tree.root_hash);
    CHECK_FALSE(vr.ok);
    CHECK(vr.first_bad.find("root block") != std::string::npos);
    CHECK(veritysetup_verify(t / "data", t / "badroot", root, p) != 0);

    // A wrong root hash.
    Bytes wrong = tree.root_hash;
    wrong[0] ^= 1;
    CHECK_FALSE(verify_files(t / "data", t / "hash", p, wrong).ok);
  }
}

TEST_CASE("verity derive: salt and UUID are a fixed function of seed and context", "[verity]") {
  // Golden values computed independently with Python's hashlib:
  //   hashlib.sha256(b"mkguest verity salt\0" + (0).to_bytes(4,'big') +
  //     len(seed).to_bytes(8,'big') + seed + len(ctx).to_bytes(8,'big') + ctx)
  // with seed = b"seed", ctx = b"ctx".
  auto ctx = as_bytes("ctx");
  CHECK(to_hex(derive_salt("seed", ctx, 32)) ==
        "efdfcdf03fa6240786c117d0f2269ec66b59dc16645eef4f8012d4a60a397a34");
  Bytes long_salt = derive_salt("seed", ctx, 256);
  CHECK(long_salt.size() == 256);
  CHECK(Bytes(long_salt.begin(), long_salt.begin() + 32) == derive_salt("seed", ctx, 32));
  CHECK(derive_salt("seed", ctx, 1).size() == 1);
  CHECK(derive_salt("seed", ctx, 0).empty());
  CHECK(derive_salt("seed2", ctx, 32) != derive_salt("seed", ctx, 32));
  CHECK(derive_salt("seed", as_bytes("ctx2"), 32) != derive_salt("seed", ctx, 32));
  // Length prefixes keep ("ab","c") and ("a","bc") apart.
  CHECK(derive_salt("ab", as_bytes("c"), 32) != derive_salt("a", as_bytes("bc"), 32));
  Uuid u = derive_uuid("seed", ctx);
  CHECK(format_uuid(u) == "1f7a35c9-abd3-4971-92b3-3d857cba84e5");
  CHECK((u[6] >> 4) == 4);
  CHECK((u[8] & 0xc0) == 0x80);
  CHECK(parse_uuid(format_uuid(u)) == u);
  CHECK_FALSE(parse_uuid("12345678-1234-5678-9abc-def01234567").has_value());
  CHECK_FALSE(parse_uuid("1234567801234-5678-9abc-def012345678").has_value());
}

TEST_CASE("verity verify: other hashes, formats and block sizes", "[verity]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  struct Combo {
    HashAlg hash;
    std::uint32_t format, dbs, hbs;
    bool sb;
    std::size_t salt;
  } combos[] = {{HashAlg::kSha1, 0, 1024, 1024, false, 0},
                {HashAlg::kSha512, 1, 512, 4096, true, 256},
                {HashAlg::kSha256, 0, 4096, 512, false, 1}};
  for (const Combo& c : combos) {
    TempDir t;
    const std::uint64_t n = 400;
    write_file(t / "data", pattern_data(n * c.dbs, c.dbs));
    VerityParams p;
    p.hash = c.hash;
    p.hash_type = c.format;
    p.data_block_size = c.dbs;
    p.hash_block_size = c.hbs;
    p.data_blocks = n;
    p.salt = derive_salt("combo", {}, c.salt);
    p.superblock = c.sb;
    VerityTree tree = format_files(t / "data", t / "hash", plan_verity(p));
    const std::string root = to_hex(tree.root_hash);
    INFO(hash_name(c.hash) << " format " << c.format << " " << c.dbs << "/" << c.hbs);
    CHECK(verify_files(t / "data", t / "hash", p, tree.root_hash).ok);
    CHECK(veritysetup_verify(t / "data", t / "hash", root, p) == 0);
    flip(t / "data", 399 * c.dbs + 1);
    VerifyResult r = verify_files(t / "data", t / "hash", p, tree.root_hash);
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad.find("data block 399 ") == 0);
    CHECK(veritysetup_verify(t / "data", t / "hash", root, p) != 0);
  }
}
