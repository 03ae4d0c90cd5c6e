// EROFS writer tests: images are checked by fsck.erofs (erofs-utils 1.5) and
// read back with the strict reader; trees built from tars are compared with
// the tree Python's tarfile module describes (tests/data/erofs_tar.py), so
// the oracle shares no code with the writer. No mount: the kernel driver
// needs root and a loop device, which the tests do not assume.
#include <catch2/catch.hpp>
#include <sstream>

#include "base/error.h"
#include "base/file.h"
#include "base/sink.h"
#include "builder/formats/erofs/format.h"
#include "builder/formats/erofs/reader.h"
#include "builder/formats/erofs/writer.h"
#include "builder/fstree/oci_layers.h"
#include "tests/test_util.h"

using namespace mkguest;
using namespace mkguest::test;

namespace {

const std::string kPy = (source_dir() / "tests/data/erofs_tar.py").string();

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

// The reader's listing in erofs_tar.py's format.
std::string listing(const ErofsImage& img) {
  std::ostringstream o;
  for (const auto& e : img.entries) {
    std::ostringstream mode;
    mode << std::oct << e.mode;
    std::string xattrs;
    for (const auto& [k, v] : e.xattrs) xattrs += (xattrs.empty() ? "" : ",") + k + "=" + to_hex(v);
    bool dev = e.type == FsType::kCharDev || e.type == FsType::kBlockDev;
    o << e.path << "|" << type_word(e.type) << "|" << mode.str() << "|" << e.uid << "|" << e.gid
      << "|" << e.mtime << "|" << (e.type == FsType::kFile ? e.size : 0) << "|" << e.sha256 << "|"
      << e.link_target << "|"
      << (dev ? std::to_string(e.rdev_major) + ":" + std::to_string(e.rdev_minor) : "") << "|"
      << xattrs << "\n";
  }
  return o.str();
}

void fsck(const std::filesystem::path& img) {
  if (!have_tool("fsck.erofs")) {
    test::skip_or_fail("fsck.erofs missing (scripts/install-deps --test installs erofs-utils)");
    return;
  }
  RunResult r = run({"fsck.erofs", img.string()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
}

FsEntry entry(std::string path, FsType type, std::uint32_t mode = 0644) {
  FsEntry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = mode;
  e.mtime = 1000;
  return e;
}

FsEntry file(std::string path, std::string data, std::uint32_t mode = 0644) {
  FsEntry e = entry(std::move(path), FsType::kFile, mode);
  e.content.memory = std::make_shared<Bytes>(data.begin(), data.end());
  e.content.size = data.size();
  return e;
}

}  // namespace

TEST_CASE("erofs: every entry type round-trips and passes fsck.erofs", "[erofs]") {
  TempDir tmp;
  write_text(tmp / "host.bin", std::string(3 * 4096 + 100, 'h'));
  FsTree t;
  for (const char* d : {"", "sbin", "dev", "d"}) t.put(entry(d, FsType::kDir, 0755));
  t.put(file("plain", std::string(8192, 'p')));
  t.put(file("tail", std::string(5000, 't')));
  t.put(file("empty", ""));
  FsEntry host = entry("host", FsType::kFile, 0755);
  host.content.host_path = tmp / "host.bin";
  host.content.size = 3 * 4096 + 100;
  t.put(host);
  FsEntry caps = file("sbin/ping", "elf", 04755);
  caps.xattrs["security.capability"] =
      Bytes{1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  caps.xattrs["trusted.overlay.x"] = Bytes(300, 0xab);
  caps.xattrs["user.a"] = Bytes{};
  t.put(caps);
  FsEntry big = file("owned", "x");
  big.uid = 70000;
  big.gid = 65536;
  t.put(big);
  FsEntry link = entry("sbin/ping2", FsType::kHardlink);
  link.link_target = "sbin/ping";
  t.put(link);
  FsEntry sym = entry("lnk", FsType::kSymlink, 0777);
  sym.link_target = std::string(4000, 'L');  // not inlinable: a block of its own
  t.put(sym);
  FsEntry dev = entry("dev/sda", FsType::kBlockDev, 0660);
  dev.rdev_major = 8;
  dev.rdev_minor = 300;
  t.put(dev);
  t.put(entry("dev/fifo", FsType::kFifo));
  t.put(entry("dev/sock", FsType::kSocket, 0777));
  for (int i = 0; i < 500; ++i) t.put(file("d/n" + std::to_string(i), std::to_string(i)));

  ErofsOptions opt;
  opt.build_time = 1000;
  opt.uuid = erofs_uuid_from_seed("test");
  MemorySink sink;
  ErofsStats stats = write_erofs(t, opt, sink);
  write_file(tmp / "img", sink.bytes());
  fsck(tmp / "img");
  CHECK(stats.inodes == t.size() - 1);  // the hard link shares an inode
  CHECK(stats.extended_inodes == 1);    // "owned": its ids do not fit 16 bits
  CHECK(sink.bytes().size() == stats.blocks * 4096);

  ErofsImage img = read_erofs(sink.bytes(), "img");
  CHECK(img.build_time == 1000);
  CHECK(img.uuid == opt.uuid);
  REQUIRE(img.entries.size() == t.size());
  for (const auto& e : img.entries) {
    INFO(e.path);
    const FsEntry* src = t.find(e.path);
    REQUIRE(src);
    FsType want = src->type == FsType::kHardlink ? FsType::kFile : src->type;
    if (src->type == FsType::kHardlink) src = t.find(src->link_target);
    CHECK(e.type == want);
    CHECK(e.mode == src->mode);
    CHECK(e.uid == src->uid);
    CHECK(e.gid == src->gid);
    CHECK(e.xattrs == src->xattrs);
    CHECK(e.link_target == (want == FsType::kSymlink ? src->link_target : ""));
    if (want == FsType::kFile) {
      Bytes data(src->content.size);
      ContentReader(src->content, src->path).read(0, data);
      CHECK(e.sha256 == to_hex(digest(HashAlg::kSha256, data)));
    }
  }
  auto find = [&](const std::string& p) {
    for (const auto& e : img.entries)
      if (e.path == p) return e;
    FAIL("missing " << p);
    return ErofsListEntry{};
  };
  CHECK(find("sbin/ping").nid == find("sbin/ping2").nid);
  CHECK(find("sbin/ping").nlink == 2);
  CHECK(find("tail").inline_tail);
  CHECK_FALSE(find("plain").inline_tail);
  CHECK(find("dev/sda").rdev_major == 8);
  CHECK(find("dev/sda").rdev_minor == 300);
  CHECK(find("d").size > 4096);  // a directory over several blocks
}

TEST_CASE("erofs: the reader rejects corrupt images", "[erofs]") {
  FsTree t;
  t.put(file("a", "hello"));
  MemorySink sink;
  write_erofs(t, {}, sink);
  Bytes img = sink.bytes();
  CHECK_NOTHROW(read_erofs(img, "ok"));
  Bytes bad = img;
  bad[1024 + 48] ^= 1;  // UUID byte: checksum mismatch
  CHECK_THROWS_WITH(read_erofs(bad, "bad"), Catch::Contains("checksum"));
  bad = img;
  bad.resize(100);
  CHECK_THROWS_AS(read_erofs(bad, "short"), InputError);
}

TEST_CASE("erofs: names and xattrs EROFS cannot hold are errors", "[erofs]") {
  FsTree t;
  FsEntry e = file("a", "x");
  e.xattrs["os2.foo"] = Bytes{1};
  t.put(e);
  MemorySink sink;
  CHECK_THROWS_WITH(write_erofs(t, {}, sink), Catch::Contains("no EROFS name prefix"));
  FsTree t2;
  t2.put(file(std::string(256, 'n'), "x"));
  CHECK_THROWS_WITH(write_erofs(t2, {}, sink), Catch::Contains("255"));
}

TEST_CASE("erofs: tar built as an unprivileged user equals the tar, any entry order", "[erofs]") {
  if (!have_tool("python3") || !have_tool("setpriv")) {
    test::skip_or_fail(
        "python3 or setpriv missing (scripts/install-deps --test installs python3; setpriv is in "
        "util-linux)");
    return;
  }
  TempDir tmp;
  std::filesystem::permissions(tmp.path(), std::filesystem::perms::all);
  REQUIRE(run({"python3", kPy, "make", (tmp / "f.tar").string(), "forward"}).exit_code == 0);
  REQUIRE(run({"python3", kPy, "make", (tmp / "r.tar").string(), "reverse"}).exit_code == 0);
  REQUIRE(sha256_file(tmp / "f.tar") != sha256_file(tmp / "r.tar"));
  for (const char* name : {"f", "r"}) {
    RunResult r = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                       MKGUEST_BINARY, "erofs", (tmp / (std::string(name) + ".tar")).string(), "-o",
                       (tmp / (std::string(name) + ".img")).string(), "--source-date-epoch",
                       "1700000000", "--seed", "s"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
  CHECK(sha256_file(tmp / "f.img") == sha256_file(tmp / "r.img"));
  fsck(tmp / "f.img");
  RunResult want = run({"python3", kPy, "list", (tmp / "f.tar").string(), "--epoch", "1700000000"});
  REQUIRE(want.exit_code == 0);
  ErofsImage img = read_erofs(read_file(tmp / "f.img"), "f.img");
  CHECK(listing(img) == want.out);
  CHECK(img.build_time == 1700000000);
  CHECK(img.uuid == erofs_uuid_from_seed("s"));
}

TEST_CASE("erofs: OCI layers with whiteouts and opaque directories", "[erofs]") {
  if (!have_tool("python3")) {
    test::skip_or_fail("python3 missing (scripts/install-deps --test installs python3)");
    return;
  }
  TempDir tmp;
  REQUIRE(run({"python3", kPy, "layers", tmp.path().string()}).exit_code == 0);
  std::vector<std::string> layers = {(tmp / "l1.tar").string(), (tmp / "l2.tar.gz").string(),
                                     (tmp / "l3.tar").string()};
  std::vector<std::string> args = {"erofs"};
  args.insert(args.end(), layers.begin(), layers.end());
  args.insert(args.end(), {"-o", (tmp / "img").string(), "--source-date-epoch", "100"});
  RunResult r = run_mkguest(args);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  fsck(tmp / "img");
  std::vector<std::string> py = {"python3", kPy, "list"};
  py.insert(py.end(), layers.begin(), layers.end());
  RunResult want = run(py);
  REQUIRE(want.exit_code == 0);
  std::string got = listing(read_erofs(read_file(tmp / "img"), "img"));
  CHECK(got == want.out);
  // Spelled out: opaque a/ keeps only the same layer's a/new, b/z is gone,
  // "gone" came back in l3, no whiteout file is visible.
  CHECK(got.find("a/sub") == std::string::npos);
  CHECK(got.find("a/x") == std::string::npos);
  CHECK(got.find("a/new|file|600|7|7") != std::string::npos);
  CHECK(got.find("b/z") == std::string::npos);
  CHECK(got.find("gone|file|755") != std::string::npos);
  CHECK(got.find(".wh.") == std::string::npos);
}

TEST_CASE("erofs: a directory source is owned by root and keeps modes", "[erofs]") {
  TempDir tmp;
  std::filesystem::create_directories(tmp / "src/etc");
  write_text(tmp / "src/etc/motd", "hello\n");
  std::filesystem::permissions(tmp / "src/etc/motd", std::filesystem::perms(0600));
  std::filesystem::create_symlink("etc/motd", tmp / "src/motd");
  RunResult r = run_mkguest({"erofs", (tmp / "src").string(), "-o", (tmp / "img").string(),
                             "--uuid", "6b1c0b8e-6a1e-4c63-9a62-0a1b2c3d4e5f"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  fsck(tmp / "img");
  ErofsImage img = read_erofs(read_file(tmp / "img"), "img");
  REQUIRE(img.entries.size() == 4);
  CHECK(img.entries[2].path == "etc/motd");
  CHECK(img.entries[2].mode == 0600);
  CHECK(img.entries[2].uid == 0);
  CHECK(img.entries[3].link_target == "etc/motd");
  CHECK(to_hex(img.uuid) == "6b1c0b8e6a1e4c639a620a1b2c3d4e5f");
}

TEST_CASE("erofs: mkfs.erofs and mkguest images of one tree read back the same", "[erofs]") {
  if (!have_tool("mkfs.erofs")) {
    test::skip_or_fail("mkfs.erofs missing (scripts/install-deps --test installs erofs-utils)");
    return;
  }
  TempDir tmp;
  std::filesystem::create_directories(tmp / "src/a/b");
  write_text(tmp / "src/a/b/small", "small\n");
  write_text(tmp / "src/a/big", std::string(3 * 4096 + 17, 'q'));
  write_text(tmp / "src/exact", std::string(4096, 'e'));
  std::filesystem::permissions(tmp / "src/exact", std::filesystem::perms(04755));
  std::filesystem::create_symlink("a/b/small", tmp / "src/s");
  for (int i = 0; i < 200; ++i) write_text(tmp / ("src/a/f" + std::to_string(i)), "v");
  for (const auto& p : std::filesystem::recursive_directory_iterator(tmp / "src")) {
    if (!p.is_symlink()) run({"touch", "-h", "-d", "@50", p.path().string()});
  }
  run({"touch", "-d", "@50", (tmp / "src").string()});
  RunResult m = run(
      {"mkfs.erofs", "-T100", "--all-root", (tmp / "ref.img").string(), (tmp / "src").string()});
  REQUIRE(m.exit_code == 0);
  // Directory sources get the source date as mtime; give the reference the
  // same times so the listings are comparable field by field.
  RunResult r = run_mkguest({"erofs", (tmp / "src").string(), "-o", (tmp / "own.img").string(),
                             "--source-date-epoch", "100"});
  REQUIRE(r.exit_code == 0);
  ErofsImage ref = read_erofs(read_file(tmp / "ref.img"), "ref.img");
  ErofsImage own = read_erofs(read_file(tmp / "own.img"), "own.img");
  for (auto& e : ref.entries) e.mtime = 100;
  CHECK(listing(ref) == listing(own));
  CHECK(ref.entries.size() == 207);
}

TEST_CASE("erofs: rootfs.format erofs in a recipe, layers and verity", "[erofs]") {
  if (!have_tool("python3")) {
    test::skip_or_fail("python3 missing (scripts/install-deps --test installs python3)");
    return;
  }
  TempDir tmp;
  REQUIRE(run({"python3", kPy, "layers", tmp.path().string()}).exit_code == 0);
  write_text(tmp / "vmlinuz", "kernel");
  write_text(tmp / "recipe.yaml",
             "name: e\nsource_date_epoch: 100\nseed: s\nkernel: vmlinuz\ncmdline:\n"
             "  - ${verity.dm_mod_create}\nrootfs:\n  format: erofs\n"
             "  source: [l1.tar, l2.tar.gz, l3.tar]\n  verity:\n    hash: sha256\n");
  RunResult r = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, tmp.path());
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  fsck(tmp / "out/rootfs.img");
  RunResult c = run_mkguest({"erofs", "l1.tar", "l2.tar.gz", "l3.tar", "-o", "cli.img",
                             "--source-date-epoch", "100", "--seed", "s"},
                            {}, tmp.path());
  REQUIRE(c.exit_code == 0);
  CHECK(sha256_file(tmp / "out/rootfs.img") == sha256_file(tmp / "cli.img"));
  CHECK(std::filesystem::exists(tmp / "out/rootfs.verity"));
  CHECK_FALSE(std::filesystem::exists(tmp / "out/.rootfs.erofs"));
}

TEST_CASE("erofs: tar members read in place, spilled, or sparse give the same tree", "[erofs]") {
  if (!have_tool("python3") || !have_tool("tar") || !have_tool("gzip")) {
    test::skip_or_fail(
        "python3, tar or gzip missing (scripts/install-deps --test installs python3 and gzip)");
    return;
  }
  TempDir tmp;
  // GNU long names and pax headers before the data, and a sparse member
  // (its data is not contiguous in the archive: it must be spilled).
  std::filesystem::create_directories(tmp / "src");
  std::string long_name(150, 'n');
  write_text(tmp / "src" / long_name, std::string(5000, 'l'));
  write_text(tmp / "src/plain", "plain\n");
  REQUIRE(run({"truncate", "-s", "3M", (tmp / "src/sparse").string()}).exit_code == 0);
  REQUIRE(run({"sh", "-c",
               "printf data | dd of=" + (tmp / "src/sparse").string() +
                   " bs=1 seek=2000000 conv=notrunc 2>/dev/null"})
              .exit_code == 0);
  for (const char* fmt : {"gnu", "pax"}) {
    REQUIRE(
        run({"tar", "--format", fmt, "--sparse", "--owner=0", "--group=0", "--numeric-owner", "-cf",
             (tmp / (std::string(fmt) + ".tar")).string(), "-C", (tmp / "src").string(), "."})
            .exit_code == 0);
  }
  REQUIRE(run({"sh", "-c", "gzip -c gnu.tar > gnu.tar.gz"}, {}, tmp.path()).exit_code == 0);
  std::string first;
  for (const char* name : {"gnu.tar", "pax.tar", "gnu.tar.gz"}) {
    INFO(name);
    RunResult r = run_mkguest({"erofs", (tmp / name).string(), "-o", (tmp / "img").string(),
                               "--source-date-epoch", "0", "--seed", "s"});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    fsck(tmp / "img");
    ErofsImage img = read_erofs(read_file(tmp / "img"), "img");
    std::string got;
    for (const auto& e : img.entries)
      if (e.type == FsType::kFile) got += e.path + " " + e.sha256 + "\n";
    std::string want = long_name + " " + to_hex(digest(HashAlg::kSha256, std::string(5000, 'l'))) +
                       "\n" + "plain " + to_hex(digest(HashAlg::kSha256, std::string("plain\n"))) +
                       "\n" + "sparse " + sha256_file(tmp / "src/sparse") + "\n";
    CHECK(got == want);
    if (first.empty()) first = sha256_file(tmp / "img");
    CHECK(sha256_file(tmp / "img") == first);
  }
}
