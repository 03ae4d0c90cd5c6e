#include "base/atomic_file.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "base/error.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using mkguest::test::TempDir;

TEST_CASE("atomic output refuses a symlink and a FIFO and keeps the target", "[atomic-file]") {
  TempDir d;
  mkguest::test::write_text(d / "victim", "keep");
  ::chmod((d / "victim").c_str(), 0600);
  fs::create_symlink(d / "victim", d / "link");
  CHECK_THROWS_AS(mkguest::write_file_atomic(d / "link", std::string("x"), false),
                  mkguest::InputError);
  REQUIRE(::mkfifo((d / "fifo").c_str(), 0600) == 0);
  CHECK_THROWS_AS(mkguest::write_file_atomic(d / "fifo", std::string("x"), false),
                  mkguest::InputError);
  CHECK(mkguest::test::read_text(d / "victim") == "keep");
  struct stat st {};
  REQUIRE(::stat((d / "victim").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("atomic output with force replaces the symlink entry, not its target", "[atomic-file]") {
  TempDir d;
  mkguest::test::write_text(d / "victim", "keep");
  ::chmod((d / "victim").c_str(), 0600);
  fs::create_symlink(d / "victim", d / "link");
  mkguest::write_file_atomic(d / "link", std::string("new"), true);
  CHECK(fs::is_regular_file(fs::symlink_status(d / "link")));
  CHECK(mkguest::test::read_text(d / "link") == "new");
  CHECK(mkguest::test::read_text(d / "victim") == "keep");
  struct stat st {};
  REQUIRE(::stat((d / "victim").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("atomic output refuses a device node", "[atomic-file]") {
  TempDir d;
  if (::mknod((d / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    WARN("mknod needs root: skipped");
    return;
  }
  REQUIRE(::chmod((d / "null").c_str(), 0666) == 0);
  CHECK_THROWS_AS(mkguest::write_file_atomic(d / "null", std::string("x"), false),
                  mkguest::InputError);
  struct stat st {};
  REQUIRE(::lstat((d / "null").c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK((st.st_mode & 07777) == 0666);
}

TEST_CASE("atomic output removes temporaries of dead processes", "[atomic-file]") {
  TempDir d;
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  REQUIRE(pid > 0);
  int status = 0;
  ::waitpid(pid, &status, 0);  // now dead
  const fs::path stale = d / (".r.img.mkguest-" + std::to_string(pid));
  const fs::path live = d / (".r.img.mkguest-" + std::to_string(::getppid()));
  mkguest::test::write_text(stale, "stale");
  mkguest::test::write_text(live, "live");
  mkguest::write_file_atomic(d / "r.img", std::string("img"), false);
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));
  CHECK(mkguest::test::read_text(d / "r.img") == "img");
}

TEST_CASE("erofs -o refuses a symlink output and --force replaces the entry", "[atomic-file]") {
  TempDir d;
  fs::create_directories(d / "src");
  mkguest::test::write_text(d / "src" / "f", "x");
  mkguest::test::write_text(d / "victim", "keep");
  fs::create_symlink(d / "victim", d / "r.img");
  auto r =
      mkguest::test::run_mkguest({"erofs", (d / "src").string(), "-o", (d / "r.img").string()});
  CHECK(r.exit_code == 2);
  CHECK(mkguest::test::read_text(d / "victim") == "keep");
  r = mkguest::test::run_mkguest(
      {"erofs", (d / "src").string(), "-o", (d / "r.img").string(), "--force"});
  CHECK(r.exit_code == 0);
  CHECK(fs::is_regular_file(fs::symlink_status(d / "r.img")));
  CHECK(mkguest::test::read_text(d / "victim") == "keep");
}
