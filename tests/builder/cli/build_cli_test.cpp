// `mkguest build` as a user runs it: exit codes, atomic output directories,
// the --json summary, and leftovers of killed builds.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {
void make_minimal(const fs::path& dir) {
  test::write_text(dir / "vmlinuz", "kernel");
  test::write_text(dir / "init", "#!/bin/sh\n");
  test::write_text(dir / "recipe.yaml",
                   "name: t\nsource_date_epoch: 1\nkernel: vmlinuz\ncmdline: quiet\n"
                   "initrd:\n  files:\n    - {src: init, dst: /init}\n");
}
}  // namespace

TEST_CASE("a bad recipe exits 2, prints file:line:col with a caret, and keeps OUTDIR", "[cli]") {
  test::TempDir d;
  make_minimal(d.path());
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path()).exit_code ==
          0);
  std::string before = test::sha256_file(d / "out/manifest.json");
  test::write_text(d / "recipe.yaml", "name: t\nkernel: vmlinuz\ninitrd:\n  levle: 3\n");
  auto r = test::run_mkguest({"build", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err ==
        "recipe.yaml:4:3: error: unknown key 'levle' in 'initrd' (did you mean 'level'?)\n"
        "    levle: 3\n"
        "    ^\n");
  CHECK(test::sha256_file(d / "out/manifest.json") == before);
  // Nothing is left beside OUTDIR.
  for (const auto& e : fs::directory_iterator(d.path())) {
    CHECK(e.path().filename().string().find(".mkguest-") == std::string::npos);
  }
}

TEST_CASE("a failure during the build keeps the earlier OUTDIR intact", "[cli]") {
  test::TempDir d;
  make_minimal(d.path());
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path()).exit_code ==
          0);
  std::string before = test::sha256_file(d / "out/initrd");
  // A cmdline over the kernel's limit fails after the initrd was written.
  auto r = test::run_mkguest(
      {"build", "-q", "recipe.yaml", "-o", "out", "--set", "cmdline=" + std::string(3000, 'x')}, {},
      d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("the cmdline is 3000 bytes; the kernel accepts at most 2047 on x86-64 "
                   "(COMMAND_LINE_SIZE 2048 with its NUL)") != std::string::npos);
  CHECK(test::sha256_file(d / "out/initrd") == before);
  CHECK(fs::exists(d / "out/manifest.json"));
}

TEST_CASE("the cmdline limit is the recipe's architecture's", "[cli]") {
  test::TempDir d;
  make_minimal(d.path());
  auto build = [&](const std::string& arch, std::size_t n) {
    return test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out-" + arch, "--set",
                              "arch=" + arch, "--set", "cmdline=" + std::string(n, 'x')},
                             {}, d.path());
  };
  CHECK(build("x86-64", 2047).exit_code == 0);
  CHECK(build("arm64", 2047).exit_code == 0);
  auto arm = build("arm64", 2048);
  CHECK(arm.exit_code == 2);
  CHECK(arm.err.find("the cmdline is 2048 bytes; the kernel accepts at most 2047 on arm64") !=
        std::string::npos);
  CHECK(build("s390x", 4095).exit_code == 0);
  auto s390 = build("s390x", 4096);
  CHECK(s390.exit_code == 2);
  CHECK(s390.err.find("at most 4095 on s390x (COMMAND_LINE_SIZE 4096 with its NUL)") !=
        std::string::npos);
  auto bad = build("riscv", 10);
  CHECK(bad.exit_code == 2);
}

TEST_CASE("stale staging directories of dead builds are removed", "[cli]") {
  test::TempDir d;
  make_minimal(d.path());
  // pid 2^22+1 exceeds the default pid_max: no such process.
  fs::create_directories(d / ".out.mkguest-4194305");
  test::write_text(d / ".out.mkguest-4194305/initrd", "partial");
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path()).exit_code ==
          0);
  CHECK_FALSE(fs::exists(d / ".out.mkguest-4194305"));
}

TEST_CASE("an OUTDIR that is not ours is never replaced", "[cli]") {
  test::TempDir d;
  make_minimal(d.path());
  test::write_text(d / "home/precious.txt", "keep me");
  auto r = test::run_mkguest({"build", "recipe.yaml", "-o", "home"}, {}, d.path());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("error: 'home' is not empty and holds no manifest.json: refusing to replace "
                   "it\n") != std::string::npos);
  CHECK(test::read_text(d / "home/precious.txt") == "keep me");
}

TEST_CASE("the JSON summary, help, version and usage errors", "[cli]") {
  test::TempDir d;
  make_minimal(d.path());
  auto r = test::run_mkguest({"build", "--json", "recipe.yaml", "-o", "out"}, {}, d.path());
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["cmdline"] == "quiet");
  CHECK(j["manifest"] == "out/manifest.json");
  CHECK(j["outputs"].size() == 3);
  CHECK(r.err.empty());

  auto v = test::run_mkguest({"--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.out.rfind("mkguest ", 0) == 0);
  auto h = test::run_mkguest({"build", "--help"});
  CHECK(h.exit_code == 0);
  CHECK(h.out.find("--set") != std::string::npos);
  auto u = test::run_mkguest({"build"});
  CHECK(u.exit_code == 1);
  auto nf = test::run_mkguest({"build", "missing.yaml"}, {}, d.path());
  CHECK(nf.exit_code == 2);
  CHECK(nf.err == "missing.yaml: error: cannot read recipe: No such file or directory\n");
}

TEST_CASE("SOURCE_DATE_EPOCH from the environment wins over the recipe", "[cli]") {
  test::TempDir d;
  make_minimal(d.path());
  auto r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"},
                             {"SOURCE_DATE_EPOCH=1700000000"}, d.path());
  REQUIRE(r.exit_code == 0);
  auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  CHECK(m["source_date_epoch"] == 1700000000);
  CHECK(m["source_date_origin"] == "environment");
  auto l = test::run({"bsdtar", "-tvf", (d / "out/initrd").string()});
  CHECK(l.out.find("Nov 14  2023 init") != std::string::npos);
}
