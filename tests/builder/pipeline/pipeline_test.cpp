// The build pipeline over its typed plan: the stage table runs in its
// documented order and only the stages the recipe calls for; every input
// file is opened once (by the plan), and the manifest records each input
// with the digest an independent tool (sha256sum) gives.
#include "builder/pipeline/pipeline.h"

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/file.h"
#include "recipes/recipe.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

class Recorder : public Progress {
 public:
  void begin(const std::string& step) override { steps.push_back(step); }
  void end() override {}
  std::vector<std::string> steps;
};

std::string sha256sum(const fs::path& p) {
  const test::RunResult r = test::run({"sha256sum", p.string()});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, 64);
}

struct Built {
  std::vector<std::string> steps;
  std::map<fs::path, int> opens;
  nlohmann::json manifest;
};

Built build(const fs::path& dir) {
  recipe::LoadOptions lo;
  lo.cwd = dir;
  const recipe::Recipe r = recipe::load_recipe(dir / "recipe.yaml", lo);
  const fs::path staging = dir / "staging";
  fs::create_directory(staging);
  Built b;
  Recorder progress;
  BuildEnv env;
  const BuildResult res = run_build(r, staging, "test", progress, env, [&](const fs::path& f) {
    ++b.opens[f];
    return MappedFile(f);
  });
  b.steps = progress.steps;
  b.manifest = nlohmann::json::parse(res.manifest_text);
  return b;
}

}  // namespace

TEST_CASE("the stage table is in build order", "[pipeline]") {
  std::vector<std::string> labels;
  for (const Stage& s : build_stages()) labels.push_back(s.label);
  CHECK(labels == std::vector<std::string>{"initrd", "rootfs + verity", "rootfs", "cmdline",
                                           "kernel", "uki", "se", "initdata", "measure tdx",
                                           "measure snp", "igvm", "bind initdata", "manifest",
                                           "exports"});
}

TEST_CASE("a build opens each input once and runs only the stages it needs", "[pipeline]") {
  if (!test::have_tool("sha256sum")) {
    test::skip_or_fail("sha256sum not installed (coreutils)");
    return;
  }
  test::TempDir d;
  test::write_text(d / "vmlinuz", "KERNEL");
  test::write_text(d / "init", "#!/bin/sh\n");
  test::write_text(d / "motd", "hello\n");
  write_file(d / "root.img", Bytes(64 * 4096, 0x5a));
  test::write_text(d / "recipe.yaml", R"(name: once
version: "1"
source_date_epoch: 1
kernel: vmlinuz
cmdline:
  - root=/dev/vda ${verity.root_hash}
initrd:
  files:
    - {src: init, dst: /init}
    - {src: vmlinuz, dst: /boot/vmlinuz}
    - {src: motd, dst: /etc/motd}
rootfs:
  format: raw
  source: root.img
  verity: {}
outputs:
  direct: true
)");
  const Built b = build(d.path());
  CHECK(b.steps == std::vector<std::string>{"hash inputs", "initrd", "rootfs + verity", "cmdline",
                                            "kernel", "manifest"});
  // recipe, vmlinuz, init, motd, root.img: each mapped exactly once.
  CHECK(b.opens.size() == 5);
  for (const auto& [f, n] : b.opens) {
    INFO(f);
    CHECK(n == 1);
  }
  std::map<std::string, std::string> want = {{"vmlinuz", sha256sum(d / "vmlinuz")},
                                             {"init", sha256sum(d / "init")},
                                             {"motd", sha256sum(d / "motd")},
                                             {"root.img", sha256sum(d / "root.img")}};
  std::size_t seen = 0;
  for (const auto& in : b.manifest["inputs"]) {
    const std::string path = in["path"];
    INFO(path);
    REQUIRE(want.count(path));
    CHECK(in["sha256"] == want[path]);
    ++seen;
  }
  CHECK(seen == 5);  // vmlinuz as kernel and as an initrd file
  CHECK(b.manifest["recipe"]["sha256"] == sha256sum(d / "recipe.yaml"));
  // The kernel artifact is the plan's bytes, copied once.
  for (const auto& out : b.manifest["outputs"])
    if (out["role"] == "kernel") CHECK(out["sha256"] == want["vmlinuz"]);
}

TEST_CASE("an erofs rootfs takes its overlay files from the plan", "[pipeline]") {
  test::TempDir d;
  test::write_text(d / "vmlinuz", "KERNEL");
  test::write_text(d / "motd", "hello\n");
  fs::create_directories(d / "layer" / "etc");
  test::write_text(d / "layer" / "etc" / "hostname", "guest\n");
  test::write_text(d / "recipe.yaml", R"(name: overlay
version: "1"
source_date_epoch: 1
kernel: vmlinuz
cmdline: ro
rootfs:
  format: erofs
  source: layer
  files:
    - {src: motd, dst: /etc/motd}
)");
  const Built b = build(d.path());
  CHECK(b.steps ==
        std::vector<std::string>{"hash inputs", "rootfs", "cmdline", "kernel", "manifest"});
  CHECK(b.opens.size() == 3);  // recipe, vmlinuz, motd (the layer is a directory)
  for (const auto& [f, n] : b.opens) CHECK(n == 1);
}
