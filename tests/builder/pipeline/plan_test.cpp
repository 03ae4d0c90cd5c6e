// The typed build plan: recipe strings become enums (a bad value is an error
// at its recipe place), and each input file is opened and hashed once.
#include "builder/pipeline/plan.h"

#include <catch2/catch.hpp>

#include "base/error.h"
#include "tests/test_util.h"

using namespace mkguest;

TEST_CASE("plan converts recipe strings to enums", "[plan]") {
  const recipe::Mark m{"r.yaml", 3, 5};
  CHECK(parse_verity_layout("appended", m) == VerityLayout::kAppended);
  CHECK(parse_verity_layout("partitioned", m) == VerityLayout::kPartitioned);
  CHECK(parse_partition_table("mbr", m) == PartitionTableType::kMbr);
  CHECK(parse_se_layout("pvimg", m) == SeImageLayout::kPvimg);
  CHECK(parse_rootfs_format("erofs", m) == RootfsFormat::kErofs);
  CHECK(parse_kernel_hashes("true", m) == KernelHashes::kOn);
  CHECK(parse_snp_vmm("gce", m) == SnpVmm::kGce);
  CHECK(parse_uname_source("auto") == UnameSource::kAuto);
  CHECK(parse_uname_source("") == UnameSource::kNone);
  CHECK(parse_uname_source("6.1.0") == UnameSource::kGiven);
}

TEST_CASE("plan rejects an unknown value at its recipe place", "[plan]") {
  const recipe::Mark m{"r.yaml", 3, 5};
  try {
    parse_verity_layout("sideways", m);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.source() == "r.yaml");
    CHECK(e.place() == "3:5");
  }
  CHECK_THROWS_AS(parse_se_layout("genprotimg2", m), InputError);
  CHECK_THROWS_AS(parse_snp_vmm("qemu", m), InputError);
}

TEST_CASE("plan opens and hashes each input file once", "[plan]") {
  test::TempDir d;
  test::write_text(d / "kernel", "KERNEL");
  test::write_text(d / "init", "#!/bin/sh\n");
  test::write_text(d / "recipe.yaml", R"(name: demo
version: "1"
kernel: kernel
cmdline: console=ttyS0
initrd:
  files:
    - {src: init, dst: /init}
    - {src: kernel, dst: /boot/vmlinuz}
)");
  recipe::LoadOptions lo;
  lo.cwd = d.path();
  const recipe::Recipe r = recipe::load_recipe(d / "recipe.yaml", lo);
  std::map<std::filesystem::path, int> opens;
  const BuildPlan p = make_plan(r, [&](const std::filesystem::path& f) {
    ++opens[f];
    return MappedFile(f);
  });
  for (const auto& [f, n] : opens) CHECK(n == 1);
  CHECK(opens.size() == 3);  // the recipe, the kernel, init
  CHECK(p.inputs.files() == 3);
  // The kernel is used twice (kernel, initrd-file) but read once.
  int kernel_uses = 0;
  for (const auto& u : p.inputs.uses())
    if (u.file == p.kernel) ++kernel_uses;
  CHECK(kernel_uses == 2);
  REQUIRE(p.kernel != nullptr);
  CHECK(p.kernel->size == 6);
  CHECK(to_hex(p.kernel->sha256) == to_hex(digest(HashAlg::kSha256, "KERNEL")));
  CHECK(std::string(p.kernel->bytes().begin(), p.kernel->bytes().end()) == "KERNEL");
}
