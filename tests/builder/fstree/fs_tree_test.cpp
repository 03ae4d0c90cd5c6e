#include "builder/fstree/tree.h"

#include <catch2/catch.hpp>

#include "base/error.h"
#include "builder/fstree/load.h"
#include "tests/test_util.h"

using namespace mkguest;

TEST_CASE("canonical_fs_path normalises and rejects escapes", "[fs]") {
  CHECK(canonical_fs_path("/a//b/./c/") == "a/b/c");
  CHECK(canonical_fs_path("./") == "");
  CHECK(canonical_fs_path("/") == "");
  CHECK_FALSE(canonical_fs_path("a/../../etc"));
  CHECK_FALSE(canonical_fs_path("../x"));
  CHECK_FALSE(canonical_fs_path(std::string(256, 'n')));
  CHECK(canonical_fs_path(std::string(255, 'n')));
}

TEST_CASE("FsTree creates parents, replaces and removes subtrees", "[fs]") {
  FsTree t;
  FsEntry f;
  f.path = "a/b/c";
  t.put(f);
  REQUIRE(t.find("") != nullptr);
  REQUIRE(t.find("a")->type == FsType::kDir);
  REQUIRE(t.find("a/b")->type == FsType::kDir);
  FsEntry sib;
  sib.path = "a.x";
  t.put(sib);
  FsEntry after;
  after.path = "a0";
  t.put(after);
  t.clear_below("a");
  CHECK(t.find("a") != nullptr);
  CHECK(t.find("a/b") == nullptr);
  CHECK(t.find("a.x") != nullptr);
  CHECK(t.find("a0") != nullptr);
  FsEntry under;
  under.path = "a0/x";
  CHECK_THROWS_AS(t.put(under), InputError);
  t.remove("a");
  CHECK(t.find("a") == nullptr);
  CHECK(t.size() == 3);  // root, a.x, a0
}

TEST_CASE("host trees ignore host modes, owners and times by default", "[fs]") {
  test::TempDir d;
  test::write_text(d / "src/bin/tool", "#!/bin/sh\n");
  test::write_text(d / "src/etc/conf", "x=1\n");
  std::filesystem::permissions(d / "src/bin/tool", std::filesystem::perms(0700));
  std::filesystem::permissions(d / "src/etc/conf", std::filesystem::perms(0600));
  std::filesystem::create_symlink("../etc/conf", d / "src/bin/link");
  std::filesystem::create_hard_link(d / "src/etc/conf", d / "src/etc/conf2");
  FsTree t;
  HostTreeOptions opt;
  opt.dst = "opt";
  opt.mtime = 42;
  load_host_tree(t, d / "src", "src", opt);
  CHECK(t.find("opt/bin/tool")->mode == 0755);
  CHECK(t.find("opt/etc/conf")->mode == 0644);
  CHECK(t.find("opt/etc/conf")->mtime == 42);
  CHECK(t.find("opt/bin/link")->link_target == "../etc/conf");
  CHECK(t.find("opt/etc/conf2")->type == FsType::kHardlink);
  CHECK(t.find("opt/etc/conf2")->link_target == "opt/etc/conf");
}
