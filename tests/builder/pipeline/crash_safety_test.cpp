// Crash safety: a build killed with SIGKILL at any step leaves the earlier
// OUTDIR intact, and its leftovers are cleaned by the next build. A full disk
// and a read-only destination give clear errors.
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {
void make_large(const test::TempDir& d) {
  test::write_text(d / "vmlinuz", std::string(4 << 20, 'k'));
  std::string big(32 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>(i >> 12);
  test::write_text(d / "big.bin", big);
  test::write_text(d / "recipe.yaml",
                   "name: t\nkernel: vmlinuz\ncmdline: quiet\ninitrd:\n  compression: zstd\n"
                   "  files:\n    - {src: big.bin, dst: /big.bin}\n");
}

std::size_t leftovers(const fs::path& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().find(".mkguest-") != std::string::npos) ++n;
  }
  return n;
}
}  // namespace

TEST_CASE("SIGKILL at any step keeps the earlier output, the next build cleans up", "[crash]") {
  test::TempDir d;
  make_large(d);
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path()).exit_code ==
          0);
  std::string manifest = test::sha256_file(d / "out/manifest.json");
  std::string initrd = test::sha256_file(d / "out/initrd");
  // Change the input so that a completed build would differ.
  test::write_text(d / "recipe.yaml",
                   test::read_text(d / "recipe.yaml")
                       .replace(test::read_text(d / "recipe.yaml").find("quiet"), 5, "debug"));
  for (const char* step : {"initrd", "cmdline", "kernel", "manifest", "commit"}) {
    INFO(step);
    auto r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"},
                               {std::string("MKGUEST_TEST_KILL_AT=") + step}, d.path());
    CHECK(r.exit_code == 128 + SIGKILL);
    CHECK(test::sha256_file(d / "out/manifest.json") == manifest);
    CHECK(test::sha256_file(d / "out/initrd") == initrd);
    CHECK(leftovers(d.path()) == 1);  // the dead build's staging dir, cleaned next time
  }
  auto ok = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  REQUIRE(ok.exit_code == 0);
  CHECK(leftovers(d.path()) == 0);
  CHECK(test::read_text(d / "out/cmdline") == "debug");
}

TEST_CASE("a full disk gives a clear error and keeps the earlier output", "[crash]") {
  test::TempDir d;
  make_large(d);
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path()).exit_code ==
          0);
  std::string manifest = test::sha256_file(d / "out/manifest.json");
  test::write_text(d / "recipe.yaml", test::read_text(d / "recipe.yaml") + "seed: other\n");
  // RLIMIT_FSIZE of 1 MiB: the first large write fails with EFBIG, like ENOSPC.
  auto r = test::run(
      {"sh", "-c", "ulimit -f 1024; exec \"$0\" build -q recipe.yaml -o out", MKGUEST_BINARY}, {},
      d.path());
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("/kernel: cannot write: File too large\n") != std::string::npos);
  CHECK(test::sha256_file(d / "out/manifest.json") == manifest);
  CHECK(leftovers(d.path()) == 0);
}

TEST_CASE("a read-only destination gives a clear error", "[crash]") {
  if (!test::have_tool("setpriv")) {
    test::skip_or_fail("setpriv is not installed (util-linux, part of every Debian install)");
    return;
  }
  test::TempDir d;
  make_large(d);
  fs::create_directories(d / "ro");
  ::chmod((d / "ro").c_str(), 0555);
  ::chmod(d.path().c_str(), 0755);
  for (const char* f : {"vmlinuz", "big.bin", "recipe.yaml"}) ::chmod((d / f).c_str(), 0644);
  // As an unprivileged user, since root may write anywhere.
  auto r = test::run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MKGUEST_BINARY,
                      "build", "-q", "recipe.yaml", "-o", "ro/out"},
                     {}, d.path());
  CHECK(r.exit_code == 3);
  CHECK(r.err.rfind("internal error: cannot create the output directory 'ro/out' (staging in "
                    "'ro/.out.mkguest-",
                    0) == 0);
  CHECK(r.err.find("'): Permission denied\n") != std::string::npos);
  CHECK(fs::is_empty(d / "ro"));
}
