// Archive and file-tree hardening, second round (docs/security.md): each
// hostile input is refused with exit 2 naming the archive and the entry, or
// handled as documented, the same way on the initrd and the EROFS path.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "base/error.h"
#include "base/file.h"
#include "builder/formats/erofs/rootfs.h"
#include "builder/fstree/load.h"
#include "builder/pipeline/initrd.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

void make_tar(const fs::path& out, const std::string& body) {
  std::string script =
      "import io, sys, tarfile\nt = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)\n"
      "def add(name, data=b'', **kw):\n"
      "    i = tarfile.TarInfo(name)\n"
      "    for k, v in kw.items(): setattr(i, k, v)\n"
      "    if i.type == tarfile.REGTYPE: i.size = len(data)\n"
      "    t.addfile(i, io.BytesIO(data) if data else None)\n" +
      body + "\nt.close()\n";
  test::write_text(out.parent_path() / "mk.py", script);
  auto r = test::run({"/usr/bin/python3", (out.parent_path() / "mk.py").string(), out.string()});
  REQUIRE(r.exit_code == 0);
}

test::RunResult build_initrd(const test::TempDir& d, const std::string& section) {
  test::write_text(d / "vmlinuz", "k");
  test::write_text(d / "recipe.yaml",
                   "name: t\nkernel: vmlinuz\ninitrd:\n  compression: none\n" + section);
  return test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
}

// The EROFS path: the archive as a rootfs layer.
std::string erofs_error(const test::TempDir& d, const std::string& tar) {
  RootfsSource src;
  src.layers.push_back(d / tar);
  try {
    build_erofs_image(src, d / "rootfs.img", "seed");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("an archive entry '.' that is not a directory cannot replace the root",
          "[hostile][hardening]") {
  test::TempDir d;
  make_tar(d / "link.tar", "add('etc/ok', b'x')\nadd('.', type=tarfile.SYMTYPE, linkname='/etc')");
  make_tar(d / "file.tar", "add('etc/ok', b'x')\nadd('.', b'root')");
  make_tar(d / "dir.tar", "add('./', type=tarfile.DIRTYPE, mode=0o700)\nadd('etc/ok', b'x')");
  auto a = build_initrd(d, "  archives: [link.tar]\n");
  CHECK(a.exit_code == 2);
  CHECK(a.err == "link.tar: error: entry '.': a symlink cannot replace the root directory\n");
  auto b = build_initrd(d, "  archives: [file.tar]\n");
  CHECK(b.exit_code == 2);
  CHECK(b.err == "file.tar: error: entry '.': a file cannot replace the root directory\n");
  CHECK(has(erofs_error(d, "link.tar"), "entry '.': a symlink cannot replace the root"));
  CHECK(has(erofs_error(d, "file.tar"), "entry '.': a file cannot replace the root"));
  // The same in a newc cpio (etc/ok, then a regular file '.').
  fs::copy_file(test::source_dir() / "tests/corpus/archive/hardening-root-file.cpio",
                d / "file.cpio");
  auto c = build_initrd(d, "  archives: [file.cpio]\n");
  CHECK(c.exit_code == 2);
  CHECK(c.err == "file.cpio: error: entry '.': a file cannot replace the root directory\n");
  CHECK(has(erofs_error(d, "file.cpio"), "entry '.': a file cannot replace the root"));
  CHECK(build_initrd(d, "  archives: [dir.tar]\n").exit_code == 0);
  CHECK(erofs_error(d, "dir.tar").empty());
}

TEST_CASE("a sparse file keeps its declared size, as bsdtar extracts it", "[hostile][hardening]") {
  REQUIRE(test::have_tool("bsdtar"));
  REQUIRE(test::have_tool("tar"));
  test::TempDir d;
  fs::create_directories(d / "src");
  test::write_text(d / "src/z", "");
  fs::resize_file(d / "src/z", 10 << 20);  // only a hole
  test::write_text(d / "src/data", "head");
  fs::resize_file(d / "src/data", 3 << 20);  // data, then a hole
  const std::string s = (d / "src").string();
  const std::vector<std::pair<std::string, std::vector<std::string>>> makers = {
      {"gnu", {"tar", "--format=gnu", "--sparse"}},
      {"oldgnu", {"tar", "--format=oldgnu", "--sparse"}},
      {"pax00", {"tar", "--format=posix", "--sparse", "--sparse-version=0.0"}},
      {"pax01", {"tar", "--format=posix", "--sparse", "--sparse-version=0.1"}},
      {"pax10", {"tar", "--format=posix", "--sparse", "--sparse-version=1.0"}},
      {"bsdtar", {"bsdtar", "--format=pax", "--read-sparse"}},
  };
  for (const auto& [name, argv] : makers) {
    INFO(name);
    auto tar = d / (name + ".tar");
    auto cmd = argv;
    for (const auto& a : {std::string("-cf"), tar.string(), std::string("-C"), s, std::string("z"),
                          std::string("data")}) {
      cmd.push_back(a);
    }
    REQUIRE(test::run(cmd).exit_code == 0);
    auto x = d / ("x-" + name);
    fs::create_directories(x);
    REQUIRE(test::run({"bsdtar", "-xf", tar.string(), "-C", x.string()}).exit_code == 0);
    int seen = 0;
    for_each_archive_entry(tar, name, "", ArchiveLimits{}, [&](FsEntry&& e) {
      ++seen;
      const std::string want = test::read_text(x / e.path);
      CHECK(e.content.size == want.size());
      REQUIRE(e.content.memory);
      const bool same = std::string(e.content.memory->begin(), e.content.memory->end()) == want;
      CHECK(same);
    });
    CHECK(seen == 2);
  }
  CHECK(fs::file_size(d / "x-gnu/z") == (10u << 20));
}

TEST_CASE("the initrd archive memory limit holds across all archives of a build",
          "[hostile][hardening]") {
  test::TempDir d;
  make_tar(d / "a.tar", "add('a', b'\\0' * 600000)");
  recipe::InitrdSpec spec;
  for (const char* dst : {"one", "two"}) {
    recipe::InitrdArchive a;
    a.src.resolved = d / "a.tar";
    a.src.display = "a.tar";
    a.dst = dst;
    spec.archives.push_back(a);
  }
  CHECK(initrd_tree(spec, 0, 1300000).find("two/a"));
  CHECK_THROWS_WITH(initrd_tree(spec, 0, 1000000),
                    "a.tar: error: entry 'a': size 600000 exceeds the limits (8589934592 bytes "
                    "per file, 400000 in all)");
}

TEST_CASE("deep and long archive paths are refused", "[hostile][hardening]") {
  test::TempDir d;
  make_tar(d / "deep.tar", "add('d/' * 20000 + 'f', b'x')");
  make_tar(d / "ok.tar", "add('d/' * 2000 + 'f', b'x')");
  auto b = build_initrd(d, "  archives: [deep.tar]\n");
  CHECK(b.exit_code == 2);
  CHECK(has(b.err, "deep.tar: error: entry 'd/d/d/"));
  CHECK(has(b.err, "path longer than 4095 bytes"));
  CHECK(has(erofs_error(d, "deep.tar"), "path longer than 4095 bytes"));
  CHECK(build_initrd(d, "  archives: [ok.tar]\n").exit_code == 0);
}

TEST_CASE("a hard link whose target became a symlink is refused on both paths",
          "[hostile][hardening]") {
  test::TempDir d;
  make_tar(d / "hl.tar",
           "add('a', b'x')\nadd('b', type=tarfile.LNKTYPE, linkname='a')\n"
           "add('a', type=tarfile.SYMTYPE, linkname='elsewhere')");
  auto b = build_initrd(d, "  archives: [hl.tar]\n");
  CHECK(b.exit_code == 2);
  CHECK(has(b.err, "hl.tar: entry 'b'"));
  CHECK(has(b.err, "hard link to '/a', which is not a regular file"));
  auto e = erofs_error(d, "hl.tar");
  CHECK(has(e, "hl.tar: entry 'b'"));
  CHECK(has(e, "hard link to 'a', which is not a regular file"));
}

TEST_CASE("symlink targets: empty and over 4095 bytes refused on both paths",
          "[hostile][hardening]") {
  test::TempDir d;
  make_tar(d / "empty.tar", "add('l', type=tarfile.SYMTYPE, linkname='')");
  make_tar(d / "long.tar", "add('l', type=tarfile.SYMTYPE, linkname='x' * 5000)");
  make_tar(d / "max.tar", "add('l', type=tarfile.SYMTYPE, linkname='x' * 4095)");
  for (const char* t : {"empty.tar", "long.tar"}) {
    INFO(t);
    auto b = build_initrd(d, std::string("  archives: [") + t + "]\n");
    CHECK(b.exit_code == 2);
    CHECK(b.err == std::string(t) +
                       ": entry 'l': error: '/l': symlink target is empty or longer than 4095 "
                       "bytes\n");
    CHECK(has(erofs_error(d, t), "symlink target is empty or longer than 4095 bytes"));
  }
  CHECK(build_initrd(d, "  archives: [max.tar]\n").exit_code == 0);
  CHECK(erofs_error(d, "max.tar").empty());
}

TEST_CASE("a FIFO given as an input file is refused, not opened", "[hostile][hardening]") {
  test::TempDir d;
  REQUIRE(::mkfifo((d / "fifo").c_str(), 0644) == 0);
  auto f = build_initrd(d, "  files:\n    - {src: fifo, dst: /x}\n");
  CHECK(f.exit_code == 2);
  CHECK(has(f.err, "'fifo' is not a regular file"));
  auto a = build_initrd(d, "  archives: [fifo]\n");
  CHECK(a.exit_code == 2);
  CHECK(has(a.err, "'fifo' is not a regular file"));
  test::write_text(d / "recipe.yaml", "name: t\nkernel: fifo\ninitrd:\n  compression: none\n");
  auto k = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(k.exit_code == 2);
  CHECK(has(k.err, "not a regular file"));
  // The library entry points, below the recipe's checks.
  FsTree t;
  CHECK_THROWS_WITH(load_archive(t, d / "fifo", "fifo", ""), "fifo: error: not a regular file");
  FsContent c;
  c.host_path = d / "fifo";
  CHECK_THROWS_WITH(ContentReader(c, "x"), (d / "fifo").string() + ": error: not a regular file");
  CHECK_THROWS_WITH(read_file(d / "fifo"), (d / "fifo").string() + ": error: not a regular file");
}
