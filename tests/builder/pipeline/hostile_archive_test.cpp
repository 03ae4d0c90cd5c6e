// Hostile archives fed to the initrd: each is handled safely as documented
// (recipes/README.md, docs/security.md) or rejected with a clear error, and
// nothing is ever written outside the output directory.
#include <catch2/catch.hpp>
#include <filesystem>

#include "base/error.h"
#include "base/sink.h"
#include "builder/fstree/load.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

// Builds a tar with Python's tarfile, which writes whatever names we ask for.
void make_tar(const fs::path& out, const std::string& body, const std::string& mode = "w") {
  std::string script = "import io, sys, tarfile\nt = tarfile.open(sys.argv[1], '" + mode +
                       "', format=tarfile.PAX_FORMAT)\n"
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

struct Built {
  int exit_code;
  std::string err;
  std::string listing;
};

Built build_with(const test::TempDir& d, const std::string& archive_item) {
  test::write_text(d / "vmlinuz", "k");
  test::write_text(d / "recipe.yaml",
                   "name: t\nkernel: vmlinuz\ninitrd:\n  compression: none\n"
                   "  archives:\n    - " +
                       archive_item + "\n");
  auto r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  Built b{r.exit_code, r.err, ""};
  if (r.exit_code == 0) b.listing = test::run({"bsdtar", "-tvf", (d / "out/initrd").string()}).out;
  return b;
}

}  // namespace

TEST_CASE("'..' paths are rejected and nothing lands outside", "[hostile]") {
  test::TempDir d;
  make_tar(d / "evil.tar", "add('../../escaped', b'x')");
  auto b = build_with(d, "evil.tar");
  CHECK(b.exit_code == 2);
  CHECK(b.err ==
        "evil.tar: error: entry '../../escaped': unsafe path (it escapes the tree, or a name is "
        "longer than 255 bytes)\n");
  CHECK_FALSE(fs::exists(d.path().parent_path() / "escaped"));
  CHECK_FALSE(fs::exists(d / "out"));
}

TEST_CASE("absolute paths are kept inside the image", "[hostile]") {
  test::TempDir d;
  make_tar(d / "abs.tar", "add('/etc/abs', b'x')");
  auto b = build_with(d, "abs.tar");
  REQUIRE(b.exit_code == 0);
  CHECK(b.listing.find(" etc/abs\n") != std::string::npos);
}

TEST_CASE("a path through a symlink is rejected, outward symlinks stay data", "[hostile]") {
  test::TempDir d;
  make_tar(d / "through.tar",
           "add('etc', type=tarfile.SYMTYPE, linkname='/')\nadd('etc/passwd', b'root')");
  auto b = build_with(d, "through.tar");
  CHECK(b.exit_code == 2);
  CHECK(b.err.find("'/etc/passwd' needs '/etc' to be a directory, but it is a symlink") !=
        std::string::npos);
  test::TempDir d2;
  make_tar(d2 / "out.tar", "add('esc', type=tarfile.SYMTYPE, linkname='../../../../etc/shadow')");
  auto b2 = build_with(d2, "out.tar");
  REQUIRE(b2.exit_code == 0);
  CHECK(b2.listing.find("esc -> ../../../../etc/shadow") != std::string::npos);
}

TEST_CASE("hard links to nowhere are rejected", "[hostile]") {
  test::TempDir d;
  make_tar(d / "hl.tar", "add('a', type=tarfile.LNKTYPE, linkname='missing')");
  auto b = build_with(d, "hl.tar");
  CHECK(b.exit_code == 2);
  CHECK(b.err ==
        "hl.tar: error: entry 'a': hard link to 'missing', which is not a regular file in the "
        "archive\n");
}

TEST_CASE("duplicate entries: the later one wins, as tar extracts them", "[hostile]") {
  test::TempDir d;
  make_tar(d / "dup.tar", "add('f', b'first')\nadd('f', b'second!')");
  auto b = build_with(d, "dup.tar");
  REQUIRE(b.exit_code == 0);
  CHECK(b.listing.find("7 Jan  1  1970 f\n") != std::string::npos);
}

TEST_CASE("names over 255 bytes are rejected", "[hostile]") {
  test::TempDir d;
  make_tar(d / "long.tar", "add('d/' + 'n' * 256, b'x')");
  auto b = build_with(d, "long.tar");
  CHECK(b.exit_code == 2);
  CHECK(b.err.find("unsafe path") != std::string::npos);
}

TEST_CASE("absurd sizes and truncated archives are rejected", "[hostile]") {
  test::TempDir d;
  // A header that claims 1 TiB, followed by 10 bytes.
  make_tar(d / "big.tar",
           "i = tarfile.TarInfo('huge'); i.size = 1 << 40\n"
           "t.fileobj.write(i.tobuf(tarfile.PAX_FORMAT)); t.fileobj.write(b'0123456789')");
  auto b = build_with(d, "big.tar");
  CHECK(b.exit_code == 2);
  CHECK(b.err ==
        "big.tar: error: entry 'huge': size 1099511627776 exceeds the limits (8589934592 bytes "
        "per file, 2147483648 in all)\n");
  test::TempDir d2;
  make_tar(d2 / "ok.tar", "add('a', b'x' * 5000)");
  std::string full = test::read_text(d2 / "ok.tar");
  test::write_text(d2 / "cut.tar", full.substr(0, 2048));
  auto c = build_with(d2, "cut.tar");
  CHECK(c.exit_code == 2);
  CHECK(c.err.rfind("cut.tar: error: entry 'a': ", 0) == 0);
}

TEST_CASE("devices, setuid bits and xattrs are dropped on request", "[hostile]") {
  test::TempDir d;
  make_tar(d / "dev.tar",
           "add('dev/sda', type=tarfile.BLKTYPE, devmajor=8, devminor=0)\n"
           "add('bin/su', b'su', mode=0o4755)\n"
           "i = tarfile.TarInfo('bin/ping'); i.size = 4\n"
           "i.pax_headers = {'SCHILY.xattr.security.capability': '\\x01\\x00\\x00\\x02'}\n"
           "t.addfile(i, io.BytesIO(b'ping'))");
  // cpio cannot carry xattrs: an error unless they are dropped.
  auto kept = build_with(d, "dev.tar");
  CHECK(kept.exit_code == 2);
  CHECK(kept.err.find("cpio cannot store extended attributes") != std::string::npos);
  auto b = build_with(d, "{src: dev.tar, drop: [devices, setid, xattrs]}");
  REQUIRE(b.exit_code == 0);
  CHECK(b.listing.find("dev/sda") == std::string::npos);
  CHECK(b.listing.find("-rwxr-xr-x  1 0      0           2 Jan  1  1970 bin/su") !=
        std::string::npos);
  CHECK(b.listing.find("bin/ping") != std::string::npos);
}

TEST_CASE("a compression bomb stops at the memory limit", "[hostile]") {
  // 64 MiB of zeros in a tar, gzip-compressed to a few dozen KiB.
  test::TempDir d;
  make_tar(d / "bomb.tar", "add('z', b'\\0' * (64 << 20))");
  MemorySink gz;
  {
    auto comp = make_compressor(Codec::kGzip, 9, gz);
    std::string tar = test::read_text(d / "bomb.tar");
    comp->write(as_bytes(tar));
    comp->finish();
  }
  CHECK(gz.bytes().size() < (1 << 20));
  ArchiveLimits limits;
  limits.max_total_size = 1 << 20;
  limits.max_file_size = 1 << 20;
  int seen = 0;
  CHECK_THROWS_WITH(
      for_each_archive_entry(gz.bytes(), "bomb.tar.gz", "", limits, [&](FsEntry&&) { ++seen; }),
      "bomb.tar.gz: error: entry 'z': size 67108864 exceeds the limits (1048576 "
      "bytes per file, 1048576 in all)");
  CHECK(seen == 0);
}
