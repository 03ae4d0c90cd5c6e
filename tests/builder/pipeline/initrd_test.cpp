// The initrd: bsdtar/bsdcpio list exactly what the recipe declared, every
// compressor produces what the kernel can unpack, and the bytes are the same
// whatever the host's umask, time zone, file times or directory.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

const char* kRecipe = R"(name: demo
version: "2"
source_date_epoch: 1700000000
kernel: vmlinuz
cmdline: [console=ttyS0, "img=${name}"]
initrd:
  compression: COMP
  early:
    - {src: ucode.bin, dst: kernel/x86/microcode/AuthenticAMD.bin}
  archives:
    - {src: extra.tar, dst: /opt}
  files:
    - {src: init, dst: /init, mode: "0755"}
    - {src: init, dst: /usr/bin/tool, mode: "4755", uid: 1000, gid: 100}
  trees:
    - {src: tree, dst: /etc}
  directories:
    - {path: /tmp, mode: "1777"}
  symlinks:
    - {path: /bin/sh, target: busybox}
  devices:
    - {path: /dev/console, type: char, major: 5, minor: 1}
    - {path: /dev/vda, type: block, major: 254, minor: 0, mode: "0660", gid: 6}
)";

void make_project(const fs::path& dir, const std::string& comp) {
  std::string r = kRecipe;
  r.replace(r.find("COMP"), 4, comp);
  test::write_text(dir / "recipe.yaml", r);
  test::write_text(dir / "vmlinuz", "kernel bytes");
  test::write_text(dir / "init", "#!/bin/sh\necho hi\n");
  test::write_text(dir / "ucode.bin", "microcode");
  test::write_text(dir / "tree/hostname", "demo\n");
  test::write_text(dir / "tree/sub/deep.conf", "x=1\n");
  // The archive is an input with fixed bytes (fixed mtimes), written by Python's
  // tarfile: a tar made from files just written would carry the current time.
  auto r2 =
      test::run({"/usr/bin/python3", "-c",
                 "import io, sys, tarfile\n"
                 "t = tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT)\n"
                 "i = tarfile.TarInfo('data.txt'); i.size = 13; i.uid = 7; i.gid = 8\n"
                 "i.mode = 0o644; i.mtime = 1600000000\n"
                 "t.addfile(i, io.BytesIO(b'archive data\\n'))\n"
                 "l = tarfile.TarInfo('link'); l.type = tarfile.SYMTYPE; l.linkname = 'data.txt'\n"
                 "l.uid = 7; l.gid = 8; l.mode = 0o777; l.mtime = 1600000000\n"
                 "t.addfile(l)\nt.close()\n",
                 (dir / "extra.tar").string()});
  REQUIRE(r2.exit_code == 0);
}

}  // namespace

TEST_CASE("bsdtar lists exactly the declared initrd entries", "[initrd]") {
  test::TempDir d;
  make_project(d.path(), "none");
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  REQUIRE(b.exit_code == 0);
  // The early archive comes first: bsdcpio reads it alone.
  auto early = test::run({"bsdtar", "-tf", (d / "out/initrd").string()});
  REQUIRE(early.exit_code == 0);
  CHECK(early.out ==
        ".\nkernel\nkernel/x86\nkernel/x86/microcode\n"
        "kernel/x86/microcode/AuthenticAMD.bin\n");
  // Skip the early archive (its size is the manifest's... find the second magic).
  std::string all = test::read_text(d / "out/initrd");
  auto second = all.find("070701", all.find("TRAILER!!!"));
  REQUIRE(second != std::string::npos);
  test::write_text(d / "main.cpio", all.substr(second));
  auto l = test::run({"bsdtar", "-tvf", (d / "main.cpio").string()});
  REQUIRE(l.exit_code == 0);
  std::string expected =
      "drwxr-xr-x  8 0      0           0 Nov 14  2023 .\n"
      "drwxr-xr-x  2 0      0           0 Nov 14  2023 bin\n"
      "lrwxrwxrwx  1 0      0           7 Nov 14  2023 bin/sh -> busybox\n"
      "drwxr-xr-x  2 0      0           0 Nov 14  2023 dev\n"
      "crw-------  1 0      0         5,1 Nov 14  2023 dev/console\n"
      "brw-rw----  1 0      6       254,0 Nov 14  2023 dev/vda\n"
      "drwxr-xr-x  3 0      0           0 Nov 14  2023 etc\n"
      "-rw-r--r--  1 0      0           5 Nov 14  2023 etc/hostname\n"
      "drwxr-xr-x  2 0      0           0 Nov 14  2023 etc/sub\n"
      "-rw-r--r--  1 0      0           4 Nov 14  2023 etc/sub/deep.conf\n"
      "-rwxr-xr-x  1 0      0          18 Nov 14  2023 init\n"
      "drwxr-xr-x  2 0      0           0 Nov 14  2023 opt\n"
      "-rw-r--r--  1 7      8          13 Nov 14  2023 opt/data.txt\n"
      "lrwxrwxrwx  1 7      8           8 Nov 14  2023 opt/link -> data.txt\n"
      "drwxrwxrwt  2 0      0           0 Nov 14  2023 tmp\n"
      "drwxr-xr-x  3 0      0           0 Nov 14  2023 usr\n"
      "drwxr-xr-x  2 0      0           0 Nov 14  2023 usr/bin\n"
      "-rwsr-xr-x  1 1000   100        18 Nov 14  2023 usr/bin/tool\n";
  CHECK(l.out == expected);
}

TEST_CASE("every compression unpacks with the standard tools", "[initrd]") {
  for (std::string comp : {"gzip", "zstd", "xz"}) {
    DYNAMIC_SECTION(comp) {
      test::TempDir d;
      make_project(d.path(), comp);
      auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
      REQUIRE(b.exit_code == 0);
      std::string all = test::read_text(d / "out/initrd");
      auto end_early = all.find("TRAILER!!!");
      REQUIRE(end_early != std::string::npos);
      std::size_t start = end_early + 14;  // 110-byte header + 11-byte name, padded to 4
      test::write_text(d / "main.z", all.substr(start));
      if (comp == "gzip") {
        // RFC 1952 header: no FNAME flag, MTIME 0.
        CHECK(all[start + 3] == 0);
        CHECK(all.substr(start + 4, 4) == std::string(4, '\0'));
      }
      if (comp == "xz") {
        // Stream flags: check type 0x01 = CRC32, which the kernel's XZ supports.
        CHECK(all[start + 7] == 0x01);
        auto xl = test::run({"xz", "--robot", "--list", (d / "main.z").string()});
        CHECK(xl.out.find("CRC32") != std::string::npos);
      }
      const char* tool = comp == "gzip" ? "gzip" : comp == "zstd" ? "zstd" : "xz";
      auto u = test::run({tool, "-dc", (d / "main.z").string()});
      REQUIRE(u.exit_code == 0);
      test::write_text(d / "main.cpio", u.out);
      auto l = test::run({"bsdtar", "-tf", (d / "main.cpio").string()});
      CHECK(l.exit_code == 0);
      CHECK(l.out.find("usr/bin/tool\n") != std::string::npos);
    }
  }
}

TEST_CASE("builds are byte-identical across directories, TZ, umask and mtimes", "[initrd][repro]") {
  test::TempDir a, b;
  make_project(a / "p", "gzip");
  make_project(b / "elsewhere/deeper", "gzip");
  // Different file times and permissions on the second copy.
  fs::last_write_time(b / "elsewhere/deeper/tree/hostname",
                      fs::file_time_type::clock::now() - std::chrono::hours(1000));
  fs::permissions(b / "elsewhere/deeper/tree/hostname", fs::perms(0600));
  auto r1 = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {"TZ=UTC"}, a / "p");
  auto r2 = test::run(
      {"sh", "-c",
       "umask 077; exec \"$0\" build -q deeper/recipe.yaml -o " + (a / "other-out").string(),
       MKGUEST_BINARY},
      {"TZ=Asia/Kolkata", "LC_ALL=C.UTF-8"}, b / "elsewhere");
  REQUIRE(r1.exit_code == 0);
  REQUIRE(r2.exit_code == 0);
  for (const char* f : {"initrd", "cmdline", "kernel", "manifest.json"}) {
    INFO(f);
    CHECK(test::sha256_file(a / "p/out" / f) == test::sha256_file(a / "other-out" / f));
  }
  struct stat st {};
  REQUIRE(::stat((a / "other-out/initrd").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);  // not the umask's 0600
}
