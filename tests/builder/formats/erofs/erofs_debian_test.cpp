// Acceptance test of the rootless rootfs on a real Debian 12 userland: a tar
// made by mmdebstrap (scripts/fetch-debian-rootfs, cached in .cache/rootfs/)
// is rewritten twice with its entries in different seeded orders, each copy
// is built into EROFS by `mkguest erofs` running as uid 65534, and the images
// are checked with fsck.erofs, read back and compared with the tree Python's
// tarfile describes (tests/data/erofs_tar.py), and compared with each other
// (image bytes, dm-verity root hash). Skipped with the reason when mmdebstrap
// or the network is missing and no cached tar exists.
#include <catch2/catch.hpp>
#include <sstream>

#include "base/digest.h"
#include "base/file.h"
#include "builder/formats/erofs/reader.h"
#include "tests/test_util.h"

using namespace mkguest;
using namespace mkguest::test;

namespace {

const std::string kPy = (source_dir() / "tests/data/erofs_tar.py").string();

// The cached Debian tar, fetched when absent; empty when that is impossible.
std::filesystem::path debian_tar(std::string* why) {
  auto tar = source_dir() / ".cache/rootfs/bookworm-minbase.tar";
  if (std::filesystem::exists(tar)) return tar;
  RunResult r = run({(source_dir() / "scripts/fetch-debian-rootfs").string(), tar.string()});
  if (r.exit_code != 0 || !std::filesystem::exists(tar)) {
    *why =
        "no Debian rootfs tar (scripts/fetch-debian-rootfs needs mmdebstrap and a Debian "
        "mirror): " +
        r.err.substr(r.err.size() > 400 ? r.err.size() - 400 : 0);
    return {};
  }
  return tar;
}

std::string type_word(FsType t) {
  switch (t) {
    case FsType::kDir:
      return "dir";
    case FsType::kSymlink:
      return "symlink";
    case FsType::kCharDev:
      return "chardev";
    case FsType::kBlockDev:
      return "blockdev";
    case FsType::kFifo:
      return "fifo";
    case FsType::kSocket:
      return "socket";
    default:
      return "file";
  }
}

// One line per entry in erofs_tar.py's listing format.
std::vector<std::string> listing(const ErofsImage& img) {
  std::vector<std::string> lines;
  for (const auto& e : img.entries) {
    std::ostringstream o, mode;
    mode << std::oct << e.mode;
    std::string xattrs;
    for (const auto& [k, v] : e.xattrs) xattrs += (xattrs.empty() ? "" : ",") + k + "=" + to_hex(v);
    bool dev = e.type == FsType::kCharDev || e.type == FsType::kBlockDev;
    o << e.path << "|" << type_word(e.type) << "|" << mode.str() << "|" << e.uid << "|" << e.gid
      << "|" << e.mtime << "|" << (e.type == FsType::kFile ? e.size : 0) << "|" << e.sha256 << "|"
      << e.link_target << "|"
      << (dev ? std::to_string(e.rdev_major) + ":" + std::to_string(e.rdev_minor) : "") << "|"
      << xattrs;
    lines.push_back(o.str());
  }
  return lines;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string root_hash_line(const std::string& out) {
  auto p = out.find("Root hash:");
  return p == std::string::npos ? "" : out.substr(p, out.find('\n', p) - p);
}

}  // namespace

TEST_CASE("erofs: a Debian rootfs tar, built rootless in two entry orders (slow)",
          "[.][slow][erofs][erofs-debian]") {
  for (const char* tool : {"python3", "setpriv"}) {
    if (!have_tool(tool)) {
      skip_or_fail(
          std::string(tool) +
          " missing (scripts/install-deps --test installs python3; setpriv is in util-linux)");
      return;
    }
  }
  std::string why;
  auto tar = debian_tar(&why);
  if (tar.empty()) {
    skip_or_fail(why);
    return;
  }
  TempDir tmp;
  std::filesystem::permissions(tmp.path(), std::filesystem::perms::all);
  const std::string epoch = "1700000000";
  for (const char* seed : {"1", "2"}) {
    auto copy = tmp / (std::string("order") + seed + ".tar");
    RunResult s = run({"python3", kPy, "shuffle", tar.string(), copy.string(), seed});
    INFO(s.err);
    REQUIRE(s.exit_code == 0);
    // As an ordinary user: owners, setuid bits and capabilities come from the
    // tar headers, not from the file system.
    RunResult r =
        run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MKGUEST_BINARY, "erofs",
             copy.string(), "-o", (tmp / (std::string("order") + seed + ".img")).string(),
             "--source-date-epoch", epoch});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
  REQUIRE(sha256_file(tmp / "order1.tar") != sha256_file(tmp / "order2.tar"));
  CHECK(sha256_file(tmp / "order1.img") == sha256_file(tmp / "order2.img"));

  if (have_tool("fsck.erofs")) {
    RunResult f = run({"fsck.erofs", "--extract", (tmp / "order1.img").string()});
    if (f.exit_code != 0 && f.err.find("extract") != std::string::npos) {
      f = run({"fsck.erofs", (tmp / "order1.img").string()});  // erofs-utils without --extract
    }
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
  } else {
    test::skip_or_fail("fsck.erofs missing (scripts/install-deps --test installs erofs-utils)");
  }

  RunResult want = run({"python3", kPy, "list", (tmp / "order1.tar").string(), "--epoch", epoch});
  REQUIRE(want.exit_code == 0);
  std::vector<std::string> expected = split_lines(want.out);
  ErofsImage img = read_erofs(read_file(tmp / "order1.img"), "order1.img");
  std::vector<std::string> got = listing(img);
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("entry " << i);
    REQUIRE(got[i] == expected[i]);
  }
  CHECK(expected.size() > 5000);  // a real userland, not a handful of files

  // What the acceptance names, spelled out: root-owned, setuid, capabilities.
  auto find = [&](const std::string& p) -> const ErofsListEntry* {
    for (const auto& e : img.entries)
      if (e.path == p) return &e;
    return nullptr;
  };
  const ErofsListEntry* su = find("usr/bin/su");
  REQUIRE(su);
  CHECK(su->uid == 0);
  CHECK((su->mode & 04000) != 0);
  std::size_t with_caps = 0;
  for (const auto& e : img.entries) with_caps += e.xattrs.count("security.capability");
  CHECK(with_caps >= 1);
  const ErofsListEntry* etc = find("etc/shadow");
  REQUIRE(etc);
  CHECK(etc->gid == 42);  // shadow group

  // The same dm-verity root hash and hash tree for both orders.
  std::string roots[2];
  for (int i = 0; i < 2; ++i) {
    auto img_path = tmp / ("order" + std::to_string(i + 1) + ".img");
    auto hash_path = tmp / ("order" + std::to_string(i + 1) + ".verity");
    RunResult v = run_mkguest({"verity", "format", img_path.string(), hash_path.string(), "--seed",
                               "debian", "--no-superblock"});
    INFO(v.out << v.err);
    REQUIRE(v.exit_code == 0);
    roots[i] = root_hash_line(v.out);
    REQUIRE_FALSE(roots[i].empty());
  }
  CHECK(roots[0] == roots[1]);
  CHECK(sha256_file(tmp / "order1.verity") == sha256_file(tmp / "order2.verity"));
}
