// rootfs.files: overlays on top of an EROFS source (recipes/README.md
// "### rootfs.files"). Images are checked with fsck.erofs and read back with
// the strict reader; the source tar comes from tests/data/erofs_tar.py.
#include <catch2/catch.hpp>

#include "base/digest.h"
#include "base/file.h"
#include "builder/formats/erofs/reader.h"
#include "tests/test_util.h"

using namespace mkguest;
using namespace mkguest::test;

namespace {

const std::string kPy = (source_dir() / "tests/data/erofs_tar.py").string();

const ErofsListEntry* find(const ErofsImage& img, const std::string& path) {
  for (const auto& e : img.entries)
    if (e.path == path) return &e;
  return nullptr;
}

std::string sha256_text(const std::string& s) { return to_hex(digest(HashAlg::kSha256, s)); }

RunResult build(const TempDir& tmp, const std::string& files) {
  write_text(tmp / "recipe.yaml",
             "name: o\nsource_date_epoch: 1700000000\nseed: s\nkernel: vmlinuz\n"
             "rootfs:\n  format: erofs\n  source: base.tar\n  files:\n" +
                 files);
  return run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, tmp.path());
}

}  // namespace

TEST_CASE("rootfs.files: files, trees, directories and symlinks over a tar", "[erofs][rootfs]") {
  if (!have_tool("python3")) {
    test::skip_or_fail("python3 missing (scripts/install-deps --test installs python3)");
    return;
  }
  TempDir tmp;
  REQUIRE(run({"python3", kPy, "make", (tmp / "base.tar").string(), "forward"}).exit_code == 0);
  write_text(tmp / "vmlinuz", "kernel");
  write_text(tmp / "hostname", "overlaid\n");
  write_text(tmp / "sudo", "new sudo\n");
  std::filesystem::create_directories(tmp / "tree/etc/app");
  std::filesystem::create_directories(tmp / "tree/usr/lib");
  write_text(tmp / "tree/etc/app/conf", "k=v\n");
  std::filesystem::permissions(tmp / "tree/etc/app/conf", std::filesystem::perms(0600));
  write_text(tmp / "tree/usr/lib/libbig.so", "replaced by the tree\n");
  RunResult r = build(tmp,
                      "    - { src: hostname, dst: /etc/hostname, mode: \"0600\", gid: 4 }\n"
                      "    - { src: sudo, dst: usr/bin/sudo }\n"
                      "    - { src: tree, dst: /, uid: 7 }\n"
                      "    - { type: directory, dst: /home/user, mode: \"0750\", uid: 1000 }\n"
                      "    - { type: directory, dst: /srv/new/deep }\n"
                      "    - { type: symlink, dst: /many, target: usr/lib }\n"
                      "    - { type: symlink, dst: /etc/empty, target: hostname }\n");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  if (have_tool("fsck.erofs")) {
    RunResult f = run({"fsck.erofs", "--extract", (tmp / "out/rootfs.img").string()});
    INFO(f.out << f.err);
    CHECK(f.exit_code == 0);
  }
  ErofsImage img = read_erofs(read_file(tmp / "out/rootfs.img"), "rootfs.img");

  const ErofsListEntry* e = find(img, "etc/hostname");
  REQUIRE(e);
  CHECK(e->sha256 == sha256_text("overlaid\n"));
  CHECK(e->mode == 0600);
  CHECK(e->gid == 4);
  CHECK(e->mtime == 1700000000);
  // The hard link sudoedit -> sudo keeps the old file (setuid, old bytes).
  e = find(img, "usr/bin/sudo");
  REQUIRE(e);
  CHECK(e->sha256 == sha256_text("new sudo\n"));
  CHECK(e->mode == 0644);
  CHECK(e->nlink == 1);
  e = find(img, "usr/bin/sudoedit");
  REQUIRE(e);
  CHECK(e->mode == 04711);
  std::string old_sudo;
  for (int i = 0; i < 3000; ++i) old_sudo += "sudo";
  CHECK(e->sha256 == sha256_text(old_sudo));
  // The tree merges: etc keeps its files, the new ones are owned by uid 7
  // with their host modes, an existing file is replaced.
  CHECK(find(img, "etc/shadow"));
  e = find(img, "etc/app/conf");
  REQUIRE(e);
  CHECK(e->uid == 7);
  CHECK(e->mode == 0600);
  e = find(img, "usr/lib/libbig.so");
  REQUIRE(e);
  CHECK(e->sha256 == sha256_text("replaced by the tree\n"));
  e = find(img, "etc");
  REQUIRE(e);
  CHECK(e->xattrs.count("user.comment") == 1);  // existing directories keep their metadata
  // A directory over a directory: new mode and owner, same contents.
  e = find(img, "home/user");
  REQUIRE(e);
  CHECK(e->mode == 0750);
  CHECK(e->uid == 1000);
  CHECK(find(img, "home/user/big-uid"));
  REQUIRE(find(img, "srv/new/deep"));
  CHECK(find(img, "srv/new/deep")->type == FsType::kDir);
  // A symlink over a directory removes what was below it.
  e = find(img, "many");
  REQUIRE(e);
  CHECK(e->type == FsType::kSymlink);
  CHECK(e->link_target == "usr/lib");
  CHECK_FALSE(find(img, "many/entry-with-a-longish-name-000"));
  CHECK(find(img, "etc/empty")->type == FsType::kSymlink);

  // The overlay files are inputs of the manifest.
  std::string manifest = read_text(tmp / "out/manifest.json");
  CHECK(manifest.find("rootfs-file") != std::string::npos);
  CHECK(manifest.find(sha256_text("overlaid\n")) != std::string::npos);
}

TEST_CASE("rootfs.files: errors name the line", "[erofs][rootfs]") {
  TempDir tmp;
  write_text(tmp / "vmlinuz", "kernel");
  write_text(tmp / "base.tar", "");
  write_text(tmp / "f", "x");
  auto err = [&](const std::string& files) {
    RunResult r = build(tmp, files);
    CHECK(r.exit_code == 2);
    return r.err;
  };
  CHECK_THAT(err("    - { src: f, dst: /a }\n    - { src: f, dst: a }\n"),
             Catch::Contains("recipe.yaml:10:7") && Catch::Contains("already declared"));
  CHECK_THAT(err("    - { type: symlink, dst: /a }\n"), Catch::Contains("'target'"));
  CHECK_THAT(err("    - { type: symlink, dst: /a, target: b, src: f }\n"),
             Catch::Contains("'src' is for files"));
  CHECK_THAT(err("    - { type: symlink, dst: /a, target: b, mode: \"0755\" }\n"),
             Catch::Contains("'mode'"));
  CHECK_THAT(err("    - { dst: /a }\n"), Catch::Contains("'src'"));
  CHECK_THAT(err("    - { src: missing, dst: /a }\n"), Catch::Contains("no such file"));
  CHECK_THAT(err("    - { src: f, dst: /a, colour: red }\n"), Catch::Contains("colour"));
  CHECK_THAT(err("    - { src: f, dst: ../../etc/x }\n"), Catch::Contains("escapes"));
  write_text(tmp / "recipe.yaml",
             "name: o\nkernel: vmlinuz\nrootfs:\n  format: raw\n  source: base.tar\n  files:\n"
             "    - { src: f, dst: /a }\n");
  RunResult r = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, tmp.path());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("needs 'format: erofs'"));
}
