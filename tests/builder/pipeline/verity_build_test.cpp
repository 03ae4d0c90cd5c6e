// `rootfs.verity` in `mkguest build`: the built tree equals veritysetup's, the
// rendered dm-mod.create parsed back from the cmdline verifies the built
// files with veritysetup, layouts, reproducibility, and recipe errors.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "builder/formats/disk/disk_image.h"
#include "tests/verity_test_util.h"
#include "verity/cmdline.h"

using namespace mkguest;
using namespace mkguest::test;
namespace fs = std::filesystem;

namespace {

void make_recipe(const fs::path& dir, const std::string& verity, const std::string& extra = "",
                 std::uint64_t image_bytes = 600 * 4096) {
  write_file(dir / "rootfs.img", pattern_data(image_bytes, 21));
  write_text(dir / "vmlinuz", "kernel");
  write_text(dir / "recipe.yaml", "name: vt\nsource_date_epoch: 1\nkernel: vmlinuz\n" + extra +
                                      "cmdline:\n  - ${verity.dm_mod_create}\n  - ro\n"
                                      "rootfs:\n  format: raw\n  source: rootfs.img\n"
                                      "  verity:\n" +
                                      verity);
}

nlohmann::json build(const fs::path& dir, const std::string& out = "out") {
  RunResult r = run_mkguest({"build", "-q", "recipe.yaml", "-o", out}, {}, dir);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(read_text(dir / out / "manifest.json"));
}

verity::VerityParams params_of(const nlohmann::json& v) {
  verity::VerityParams p;
  REQUIRE(parse_hash_alg(v["hash"].get<std::string>(), &p.hash));
  p.hash_type = v["format"];
  p.data_block_size = v["data_block_size"];
  p.hash_block_size = v["hash_block_size"];
  p.data_blocks = v["data_blocks"];
  if (v["salt"] != "-") from_hex(v["salt"].get<std::string>(), &p.salt);
  p.superblock = v["superblock"];
  if (p.superblock) p.uuid = *verity::parse_uuid(v["uuid"].get<std::string>());
  p.hash_offset = v["hash_offset"];
  return p;
}

}  // namespace

TEST_CASE("verity build: separate layout equals veritysetup, cmdline table verifies the files",
          "[verity]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  TempDir d;
  make_recipe(d.path(), "    options: [panic_on_corruption]\n");
  nlohmann::json m = build(d.path());
  const nlohmann::json& v = m["verity"];
  CHECK(v["layout"] == "separate");
  CHECK(v["salt_origin"] == "derived");
  CHECK(v["salt"].get<std::string>().size() == 64);
  CHECK(read_file(d / "out/rootfs.img") == read_file(d / "rootfs.img"));

  // The same tree from veritysetup with the manifest's parameters.
  verity::VerityParams p = params_of(v);
  std::string root = veritysetup_format(d / "out/rootfs.img", d / "ref.verity", p);
  CHECK(v["root_hash"] == root);
  CHECK(read_file(d / "out/rootfs.verity") == read_file(d / "ref.verity"));

  // The cmdline holds the dm-mod.create table; parse it back and verify with
  // exactly its parameters, the devices being the built files.
  std::string cmdline = read_text(d / "out/cmdline");
  CHECK(cmdline == v["cmdline"]["dm_mod_create"].get<std::string>() + " ro");
  verity::DmVerityTable t =
      verity::parse_dm_mod_create(cmdline.substr(0, cmdline.find("\" root=/dev/dm-0") + 1));
  CHECK(t.data_device == "/dev/vda");
  CHECK(t.hash_device == "/dev/vdb");
  CHECK(t.options == std::vector<std::string>{"panic_on_corruption"});
  auto verify = [&](const fs::path& data) {
    return run({"veritysetup", "verify", data.string(), (d / "out/rootfs.verity").string(),
                to_hex(t.root_hash), "--no-superblock", "--format=" + std::to_string(t.version),
                "--hash=" + t.algorithm, "--data-block-size=" + std::to_string(t.data_block_size),
                "--hash-block-size=" + std::to_string(t.hash_block_size),
                "--data-blocks=" + std::to_string(t.data_blocks),
                "--hash-offset=" + std::to_string(t.hash_start_block * t.hash_block_size),
                "--salt=" + (t.salt.empty() ? std::string("-") : to_hex(t.salt))})
        .exit_code;
  };
  CHECK(verify(d / "out/rootfs.img") == 0);
  Bytes bad = read_file(d / "out/rootfs.img");
  bad[555 * 4096] ^= 1;
  write_file(d / "bad.img", bad);
  CHECK(verify(d / "bad.img") != 0);

  // Same recipe, same bytes; another seed, another salt and root hash.
  nlohmann::json again = build(d.path(), "out2");
  CHECK(read_file(d / "out2/rootfs.verity") == read_file(d / "out/rootfs.verity"));
  CHECK(read_text(d / "out2/manifest.json") == read_text(d / "out/manifest.json"));
  make_recipe(d.path(), "    options: [panic_on_corruption]\n", "seed: other\n");
  nlohmann::json other = build(d.path(), "out3");
  CHECK(other["verity"]["salt"] != v["salt"]);
  CHECK(other["verity"]["root_hash"] != v["root_hash"]);
}

TEST_CASE("verity build: appended layout with a superblock verifies with veritysetup", "[verity]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  TempDir d;
  // 600 blocks of 1 KiB: the hash area starts at the next 4 KiB boundary.
  make_recipe(d.path(),
              "    layout: appended\n    superblock: true\n    data_block_size: 1024\n"
              "    salt: none\n    pad: true\n",
              "", 600 * 1024 - 100);
  nlohmann::json v = build(d.path())["verity"];
  CHECK(v["padded"] == true);
  CHECK(v["salt"] == "-");
  CHECK(v["hash_offset"] == 614400);
  const std::string img = (d / "out/rootfs.img").string();
  RunResult r = run({"veritysetup", "verify", img, img, v["root_hash"].get<std::string>(),
                     "--hash-offset=614400"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  std::string cmdline = read_text(d / "out/cmdline");
  CHECK(cmdline.find(" /dev/vda /dev/vda 1024 4096 600 151 sha256 ") != std::string::npos);
}

TEST_CASE("verity build: partitioned GPT disk", "[verity]") {
  if (!have_tool("sgdisk")) {
    test::skip_or_fail("sgdisk not installed (scripts/install-deps --test installs gdisk)");
    return;
  }
  TempDir d;
  make_recipe(d.path(), "    layout: partitioned\n    arch: arm64\n");
  nlohmann::json v = build(d.path())["verity"];
  RunResult r = run({"sgdisk", "-v", (d / "out/rootfs.disk").string()});
  CHECK(r.out.find("No problems found") != std::string::npos);
  Bytes root;
  from_hex(v["root_hash"].get<std::string>(), &root);
  CHECK(v["disk"]["partitions"][0]["uuid"] == format_guid(verity_data_partuuid(root)));
  CHECK(v["disk"]["partitions"][1]["uuid"] == format_guid(verity_hash_partuuid(root)));
  CHECK(v["disk"]["partitions"][1]["type"] == "df3300ce-d69f-4c92-978c-9bfb0f38d820");
  CHECK(read_text(d / "out/cmdline").find(" /dev/vda1 /dev/vda2 ") != std::string::npos);
}

TEST_CASE("verity build: partitioned disk of a one-block image", "[verity]") {
  TempDir d;
  make_recipe(d.path(), "    layout: partitioned\n    partition_table: mbr\n", "", 4096);
  nlohmann::json v = build(d.path())["verity"];
  CHECK(v["data_blocks"] == 1);
  CHECK(v["disk"]["partitions"][1]["size"] == 4096);
  // The root hash of one block is the digest of the salted block.
  Bytes salt, block = pattern_data(4096, 21);
  from_hex(v["salt"].get<std::string>(), &salt);
  Bytes input = salt;
  input.insert(input.end(), block.begin(), block.end());
  CHECK(v["root_hash"] == to_hex(digest(HashAlg::kSha256, input)));
  if (have_tool("veritysetup")) {
    // The data and hash partitions, cut out of the disk, verify.
    std::uint64_t off1 = v["disk"]["partitions"][0]["offset"];
    std::uint64_t off2 = v["disk"]["partitions"][1]["offset"];
    Bytes disk = read_file(d / "out/rootfs.disk");
    write_file(d / "p1", Bytes(disk.begin() + static_cast<std::ptrdiff_t>(off1),
                               disk.begin() + static_cast<std::ptrdiff_t>(off1 + 4096)));
    write_file(d / "p2", Bytes(disk.begin() + static_cast<std::ptrdiff_t>(off2),
                               disk.begin() + static_cast<std::ptrdiff_t>(off2 + 4096)));
    RunResult r = run({"veritysetup", "verify", (d / "p1").string(), (d / "p2").string(),
                       v["root_hash"].get<std::string>(), "--no-superblock",
                       "--salt=" + v["salt"].get<std::string>(), "--data-blocks=1"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
  }
}

TEST_CASE("verity build: recipe errors name the place", "[verity]") {
  TempDir d;
  make_recipe(d.path(), "    layout: separate\n", "", 600 * 4096 + 10);
  RunResult r = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("recipe.yaml:11:5: error: the rootfs image rootfs.img holds 2457610 bytes, "
                   "not a multiple of the data block size 4096") == 0);

  make_recipe(d.path(), "    options: [panic_on_corruption, restart_on_corruption]\n");
  r = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("conflicting options: one corruption policy at most") != std::string::npos);

  make_recipe(d.path(), "    data_block_size: 3000\n");
  r = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("'data_block_size' must be a power of two") != std::string::npos);

  // ${verity.*} without rootfs.verity.
  write_text(d / "recipe.yaml", "name: vt\nkernel: vmlinuz\ncmdline: root=${verity.root_hash}\n");
  r = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("recipe.yaml:3:15: error: undefined variable '${verity.root_hash}'") == 0);
}
