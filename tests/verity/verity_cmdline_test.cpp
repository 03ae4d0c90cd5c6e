// Cmdline renderings: Kata's kernel_verity_params, the dm-mod.create table
// (rendered, parsed back and fed to veritysetup verify against built files),
// systemd's roothash= options.
#include <catch2/catch.hpp>

#include <map>

#include "base/error.h"
#include "base/file.h"
#include "tests/verity_test_util.h"
#include "verity/cmdline.h"
#include "verity/tree.h"
#include "verity/verity_file.h"

using namespace mkguest;
using namespace mkguest::verity;
using namespace mkguest::test;

namespace {
const char* kRoot = "cd70c68d151e903feeed5f0c66219a09cfa8463b1498f0aafadf5f319daca5c2";
const char* kSalt = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

VerityGeometry pat4m_geometry(bool superblock) {
  VerityParams p;
  p.data_blocks = 1024;
  from_hex(kSalt, &p.salt);
  p.superblock = superblock;
  return plan_verity(p);
}
}  // namespace

TEST_CASE("verity cmdline: Kata's strings for the spec vector", "[verity]") {
  Bytes root;
  from_hex(kRoot, &root);
  VerityGeometry g = pat4m_geometry(false);
  CHECK(kata_verity_params(g, root) == std::string("root_hash=") + kRoot + ",salt=" + kSalt +
                                           ",data_blocks=1024,data_block_size=4096,"
                                           "hash_block_size=4096");
  // docs/specs/verity-rootfs.md §1.5: the table for pat4m on separate partitions.
  CHECK(render_kata_cmdline(g, root, {}) ==
        std::string("dm-mod.create=\"dm-verity,,,ro,0 8192 verity 1 /dev/vda1 /dev/vda2 4096 "
                    "4096 1024 0 sha256 ") +
            kRoot + " " + kSalt + "\" root=/dev/dm-0");
  // With the superblock at hash offset 0 the hash start block becomes 1.
  CmdlineDevices pmem{"/dev/pmem0p1", "/dev/pmem0p2", {"panic_on_corruption", "panic_on_error"}};
  DmVerityTable t = dm_verity_table(pat4m_geometry(true), root, pmem);
  CHECK(render_verity_target(t) ==
        std::string("0 8192 verity 1 /dev/pmem0p1 /dev/pmem0p2 4096 4096 1024 1 sha256 ") + kRoot +
            " " + kSalt + " 2 panic_on_corruption panic_on_error");
  // An empty salt is "-" in both forms.
  VerityParams p = g.params;
  p.salt.clear();
  VerityGeometry nosalt = plan_verity(p);
  CHECK(kata_verity_params(nosalt, root).find(",salt=-,") != std::string::npos);
  CHECK(render_verity_target(dm_verity_table(nosalt, root, {}))
            .find(" " + std::string(kRoot) + " -") != std::string::npos);
  CHECK_THROWS_AS(dm_verity_table(g, root, {"/dev/vda 1", "/dev/vda2", {}}), ValueError);
}

TEST_CASE("verity cmdline: systemd roothash= and verity_root_options", "[verity]") {
  Bytes root;
  from_hex(kRoot, &root);
  CmdlineDevices d{"PARTUUID=cd70c68d-151e-903f-eeed-5f0c66219a09",
                   "PARTUUID=fa8463b1-498f-0aaf-adf5-f319daca5c2",
                   {"restart_on_corruption"}};
  CHECK(render_systemd_cmdline(pat4m_geometry(false), root, d) ==
        std::string("roothash=") + kRoot + " systemd.verity_root_data=" + d.data_device +
            " systemd.verity_root_hash=" + d.hash_device +
            " systemd.verity_root_options=superblock=no,format=1,data-block-size=4096,"
            "hash-block-size=4096,data-blocks=1024,hash=sha256,salt=" +
            kSalt + ",restart-on-corruption");
  CHECK(render_systemd_cmdline(pat4m_geometry(true), root, {}) ==
        std::string("roothash=") + kRoot +
            " systemd.verity_root_data=/dev/vda1 systemd.verity_root_hash=/dev/vda2"
            " systemd.verity_root_options=superblock=yes");
  CHECK_THROWS_AS(render_systemd_cmdline(pat4m_geometry(true), root,
                                         {"/dev/vda1", "/dev/vda2", {"panic_on_error"}}),
                  ValueError);
}

TEST_CASE("verity cmdline: dm-mod.create parser is strict", "[verity]") {
  const std::string good = std::string(
                               "dm-mod.create=\"dm-verity,,,ro,0 8 verity 1 /dev/a /dev/b "
                               "4096 4096 1 0 sha256 ") +
                           kRoot + " - 1 ignore_zero_blocks\"";
  DmVerityTable t = parse_dm_mod_create(good);
  CHECK(t.name == "dm-verity");
  CHECK(t.salt.empty());
  CHECK(t.options == std::vector<std::string>{"ignore_zero_blocks"});
  CHECK(render_dm_mod_create(t) == good);
  auto bad = [&](std::string s) { CHECK_THROWS_AS(parse_dm_mod_create(s), InputError); };
  bad("dm-mod.create=\"dm-verity,,,ro,0 8 verity 1 /dev/a /dev/b 4096 4096 1 0 sha256 aa -");
  bad("dm-verity,,,xx,0 8 verity 1 /dev/a /dev/b 4096 4096 1 0 sha256 aa -");
  bad("dm-verity,,,ro,0 9 verity 1 /dev/a /dev/b 4096 4096 1 0 sha256 aa -");
  bad("dm-verity,,,ro,0 8 linear 1 /dev/a /dev/b 4096 4096 1 0 sha256 aa -");
  bad("dm-verity,,,ro,0 8 verity 1 /dev/a /dev/b 4096 4096 1 0 sha256 aa - 2 x");
  bad("dm-verity,,,ro,0 8 verity 1 /dev/a /dev/b 4096 4096 1 0 sha256 zz -");
  bad("dm-verity,,,ro,0 8 verity 1 /dev/a /dev/b 4096 4096 01 0 sha256 aa -");
  bad("dm-verity,,,ro,0  8 verity 1 /dev/a /dev/b 4096 4096 1 0 sha256 aa -");
  bad("dm-verity,,,ro,0 8 verity 1 /dev/a /dev/b 4096 4096 1 0 sha256 aa -;x,,,ro,0");
  bad("dm-verity,,ro,0 8 verity 1 /dev/a /dev/b 4096 4096 1 0 sha256 aa -");
}

TEST_CASE("verity cmdline: the rendered table verifies the built files with veritysetup",
          "[verity]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  for (bool sb : {false, true}) {
    TempDir t;
    write_file(t / "data.img", pattern_data(300 * 4096, 9));
    VerityParams p;
    p.data_blocks = 300;
    p.salt = {1, 2, 3, 4, 5};
    p.superblock = sb;
    VerityGeometry g = plan_verity(p);
    VerityTree tree = format_files(t / "data.img", t / "hash.img", g);
    std::string cmdline = render_kata_cmdline(
        g, tree.root_hash, {(t / "data.img").string(), (t / "hash.img").string(), {}});
    std::string value = cmdline.substr(0, cmdline.find("\" root=") + 1);
    DmVerityTable parsed = parse_dm_mod_create(value);
    // veritysetup verify with exactly the table's parameters (no superblock read).
    auto verify = [&](const std::string& data) {
      return run({"veritysetup", "verify", data, parsed.hash_device, to_hex(parsed.root_hash),
                  "--no-superblock", "--format=" + std::to_string(parsed.version),
                  "--hash=" + parsed.algorithm,
                  "--data-block-size=" + std::to_string(parsed.data_block_size),
                  "--hash-block-size=" + std::to_string(parsed.hash_block_size),
                  "--data-blocks=" + std::to_string(parsed.data_blocks),
                  "--hash-offset=" +
                      std::to_string(parsed.hash_start_block * parsed.hash_block_size),
                  "--salt=" + (parsed.salt.empty() ? std::string("-") : to_hex(parsed.salt))})
          .exit_code;
    };
    CHECK(verify(parsed.data_device) == 0);
    Bytes data = read_file(t / "data.img");
    data[123 * 4096 + 7] ^= 1;
    write_file(t / "bad.img", data);
    CHECK(verify((t / "bad.img").string()) != 0);
  }
}

namespace {
// Kata's runtime builds dm-mod.create itself from kernel_verity_params:
// GetKernelRootParams and ParseKernelVerityParams, transcribed line by line
// from kata-containers src/runtime/virtcontainers/hypervisor.go (commit
// 80e3b071). Returns the kernel parameters it adds, space-joined, or the
// error text ("" never: every path returns params or an error).
std::string kata_runtime_root_params(const std::string& params, bool disable_nvdimm,
                                     std::string rootfstype) {
  std::map<std::string, std::string> values;
  std::size_t pos = 0;
  while (pos <= params.size()) {
    std::size_t comma = params.find(',', pos);
    std::string field =
        params.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? params.size() + 1 : comma + 1;
    while (!field.empty() && field.front() == ' ') field.erase(0, 1);
    while (!field.empty() && field.back() == ' ') field.pop_back();
    if (field.empty()) continue;
    std::size_t eq = field.find('=');
    if (eq == std::string::npos) return "error: invalid entry";
    values[field.substr(0, eq)] = field.substr(eq + 1);
  }
  if (values["root_hash"].empty()) return "error: missing root_hash";
  auto num = [&](const std::string& k) -> std::uint64_t {
    return values.count(k) && !values[k].empty() ? std::stoull(values[k]) : 0;
  };
  const std::uint64_t blocks = num("data_blocks"), dbs = num("data_block_size"),
                      hbs = num("hash_block_size");
  if (values["salt"].empty() || !blocks || !dbs || !hbs || dbs % 512 || hbs % 512)
    return "error: bad params";
  if (rootfstype.empty()) rootfstype = "ext4";
  const std::string root = disable_nvdimm ? "/dev/vda1" : "/dev/pmem0p1";
  const std::string hash = disable_nvdimm ? "/dev/vda2" : "/dev/pmem0p2";
  const std::string cmd = "dm-verity,,,ro,0 " + std::to_string(dbs / 512 * blocks) + " verity 1 " +
                          root + " " + hash + " " + std::to_string(dbs) + " " +
                          std::to_string(hbs) + " " + std::to_string(blocks) + " 0 sha256 " +
                          values["root_hash"] + " " + values["salt"];
  const std::string flags = rootfstype == "ext4" ? "data=ordered,errors=remount-ro ro" : "ro";
  return "dm-mod.create=\"" + cmd + "\" root=/dev/dm-0 rootflags=" + flags +
         " rootfstype=" + rootfstype;
}
}  // namespace

// The Kata guest contract (docs/kata.md §7): the kernel_verity_params mkguest
// writes make Kata's runtime build the same dm-verity table mkguest's Kata
// wiring renders, when the hash device has no superblock (the runtime always
// writes hash start block 0); with a superblock they differ, which is why the
// Kata wiring formats without one.
TEST_CASE("verity cmdline: Kata's runtime builds mkguest's table from kernel_verity_params",
          "[verity][kata]") {
  Bytes root;
  from_hex(kRoot, &root);
  const VerityGeometry g = pat4m_geometry(false);
  const std::string runtime = kata_runtime_root_params(kata_verity_params(g, root), true, "erofs");
  CHECK(runtime.rfind(render_kata_cmdline(g, root, {}), 0) == 0);
  CHECK(runtime.substr(render_kata_cmdline(g, root, {}).size()) ==
        " rootflags=ro rootfstype=erofs");
  // nvdimm (the runtime's default) names the pmem partitions.
  CHECK(kata_runtime_root_params(kata_verity_params(g, root), false, "erofs")
            .rfind(render_kata_cmdline(g, root, {"/dev/pmem0p1", "/dev/pmem0p2", {}}), 0) == 0);
  const VerityGeometry sb = pat4m_geometry(true);
  CHECK(kata_runtime_root_params(kata_verity_params(sb, root), true, "erofs")
            .rfind(render_kata_cmdline(sb, root, {}), 0) != 0);
}
