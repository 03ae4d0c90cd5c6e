// Golden manifests: every example builds to exactly the manifest stored in
// tests/golden/<example>/manifest.json. The manifest holds the digests and
// sizes of every output and every measurement, so a refactoring that moves
// one output byte or one manifest field fails here. Regenerate with
// scripts/update-goldens only for an intended change.
//
// The Debian examples are built from whatever Debian 12 packages
// scripts/fetch-debian-inputs downloaded; when Debian has published a newer
// package since the goldens were written, the inputs differ and the comparison
// says so instead of reporting a drift of mkguest.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

void check_golden(const std::string& example) {
  const fs::path golden = test::source_dir() / "tests/golden" / example / "manifest.json";
  REQUIRE(fs::exists(golden));
  test::TempDir d;
  auto r = test::run_mkguest(
      {"build", "-q", "examples/" + example + "/recipe.yaml", "-o", (d / "out").string()}, {},
      test::source_dir());
  REQUIRE(r.exit_code == 0);
  const std::string want = test::read_text(golden);
  const std::string got = test::read_text(d / "out" / "manifest.json");
  if (got == want) return;
  auto wj = nlohmann::json::parse(want), gj = nlohmann::json::parse(got);
  if (wj["inputs"] != gj["inputs"]) {
    // Not a missing prerequisite: Debian moved on. A warning, in CI too.
    test::skip_with_warning(
        "the inputs of examples/" + example +
        " differ from the golden's (a newer Debian package?); run scripts/update-goldens "
        "on the commit before this change, then compare");
    return;
  }
  INFO("manifest drift in examples/" << example << "; diff against " << golden.string());
  for (auto it = wj.begin(); it != wj.end(); ++it) {
    INFO("field " << it.key());
    CHECK(gj[it.key()].dump(2) == it.value().dump(2));
  }
  CHECK(got == want);
}

}  // namespace

TEST_CASE("examples/minimal builds its golden manifest", "[examples][golden]") {
  check_golden("minimal");
}

TEST_CASE("examples/rootfs-erofs builds its golden manifest", "[examples][golden]") {
  check_golden("rootfs-erofs");
}

TEST_CASE("examples/debian builds its golden manifest", "[examples][golden]") {
  if (!fs::exists(test::source_dir() / ".cache/debian/vmlinuz")) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return;
  }
  check_golden("debian");
}

TEST_CASE("examples/debian-verity-uki builds its golden manifest", "[examples][golden]") {
  if (!fs::exists(test::source_dir() / ".cache/debian/sysroot/sbin/veritysetup")) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return;
  }
  check_golden("debian-verity-uki");
}

TEST_CASE("examples/coco-guest builds its golden manifest", "[examples][golden]") {
  if (!fs::exists(test::source_dir() / ".cache/debian/sysroot/sbin/veritysetup")) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return;
  }
  check_golden("coco-guest");
}
