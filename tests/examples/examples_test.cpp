// The bundled examples build, and build to the same bytes twice.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {
void build_twice(const std::string& recipe) {
  test::TempDir d;
  auto a = test::run_mkguest({"build", "-q", recipe, "-o", (d / "a").string()}, {"TZ=UTC"},
                             test::source_dir());
  REQUIRE(a.exit_code == 0);
  auto b = test::run(
      {"sh", "-c",
       "umask 027; cd examples && exec \"$0\" build -q ../" + recipe + " -o " + (d / "b").string(),
       MKGUEST_BINARY},
      {"TZ=America/Chicago"}, test::source_dir());
  REQUIRE(b.exit_code == 0);
  for (const auto& e : fs::directory_iterator(d / "a")) {
    INFO(e.path().filename());
    CHECK(test::sha256_file(e.path()) == test::sha256_file(d / "b" / e.path().filename()));
  }
}
}  // namespace

TEST_CASE("examples/minimal builds reproducibly", "[examples]") {
  build_twice("examples/minimal/recipe.yaml");
}

TEST_CASE("examples/debian builds reproducibly from Debian's packages", "[examples]") {
  if (!fs::exists(test::source_dir() / ".cache/debian/vmlinuz")) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return;
  }
  build_twice("examples/debian/recipe.yaml");
}

TEST_CASE("examples/debian-verity-uki builds reproducibly from Debian's packages", "[examples]") {
  if (!fs::exists(test::source_dir() / ".cache/debian/sysroot/sbin/veritysetup")) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return;
  }
  build_twice("examples/debian-verity-uki/recipe.yaml");
}

TEST_CASE("examples/rootfs-erofs builds reproducibly", "[examples]") {
  build_twice("examples/rootfs-erofs/recipe.yaml");
}
