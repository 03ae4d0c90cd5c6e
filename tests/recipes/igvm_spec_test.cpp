// outputs.igvm in a recipe (recipes/igvm_spec.cpp): the defaults taken from
// measurements.snp, and an exact "recipe.yaml:line:col: error:" for each
// mistake.
#include <catch2/catch.hpp>
#include <filesystem>

#include "base/error.h"
#include "recipes/recipe.h"
#include "tests/test_util.h"

using namespace mkguest;

namespace {

const std::string kHead = "name: t\nkernel: vmlinuz\noutputs:\n  igvm:\n";
const std::string kSnp =
    "measurements:\n  snp:\n    firmware: ovmf.fd\n    vcpu_types: [EPYC-Milan]\n";

recipe::Recipe load(const test::TempDir& d, const std::string& yaml) {
  test::write_text(d / "vmlinuz", "kernel");
  test::write_text(d / "ovmf.fd", "firmware");
  test::write_text(d / "recipe.yaml", yaml);
  recipe::LoadOptions opt;
  opt.cwd = d.path();
  return recipe::load_recipe("recipe.yaml", opt);
}

std::string load_error(const test::TempDir& d, const std::string& yaml) {
  try {
    load(d, yaml);
  } catch (const InputError& e) {
    const std::string s = e.what();
    return s.substr(0, s.find('\n'));
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("outputs.igvm takes its defaults from measurements.snp", "[igvm][recipe]") {
  test::TempDir d;
  auto r = load(d, kHead + "    platforms: [snp]\n" + kSnp + "    vcpus: [1, 4]\n" +
                       "    guest_features: \"0x21\"\n");
  const auto& g = r.outputs.igvm;
  CHECK(g.present);
  CHECK(g.platforms == std::vector<std::string>{"snp"});
  CHECK(g.vcpus == std::vector<std::uint32_t>{1, 4});
  CHECK(g.vcpu_type == "EPYC-Milan");
  CHECK(g.vcpu_sig == 0xa00f11);
  CHECK(g.guest_features == 0x21);
  CHECK(g.mark.line == 5);

  // Its own keys win; an explicit signature has no type name.
  r = load(d, kHead + "    vcpus: 2\n    vcpu_sig: \"0x800f12\"\n    guest_features: 1\n" +
                  "measurements:\n  snp:\n    firmware: ovmf.fd\n"
                  "    vcpu_types: [EPYC-Milan, EPYC-Rome]\n    guest_features: [\"0x1\", "
                  "\"0x21\"]\n");
  CHECK(r.outputs.igvm.vcpus == std::vector<std::uint32_t>{2});
  CHECK(r.outputs.igvm.vcpu_type.empty());
  CHECK(r.outputs.igvm.vcpu_sig == 0x800f12);
  CHECK(r.outputs.igvm.guest_features == 1);

  // Without outputs.igvm nothing is set.
  r = load(d, "name: t\nkernel: vmlinuz\n" + kSnp);
  CHECK(!r.outputs.igvm.present);
}

TEST_CASE("outputs.igvm errors name the place", "[igvm][recipe]") {
  test::TempDir d;
  CHECK(load_error(d, kHead + "    platforms: [snp, tdx]\n" + kSnp) ==
        "recipe.yaml:5:22: error: outputs.igvm: platform tdx is not supported: mkguest writes "
        "IGVM files only for SEV-SNP (no TDVF layout is mirrored and checked against "
        "measurements.tdx; see docs/igvm.md)");
  CHECK(load_error(d, kHead + "    platforms: [snp, snp]\n" + kSnp) ==
        "recipe.yaml:5:22: error: 'platforms' lists 'snp' twice");
  CHECK(load_error(d, kHead + "    platforms: []\n" + kSnp) ==
        "recipe.yaml:5:16: error: 'platforms' must not be empty");
  CHECK(load_error(d, kHead + "    platforms: [sev]\n" + kSnp)
            .rfind("recipe.yaml:5:17: error: 'platforms' must be one of snp, tdx", 0) == 0);
  CHECK(load_error(d, kHead + "    vcpus: 1\n") ==
        "recipe.yaml:5:5: error: outputs.igvm needs measurements.snp: the IGVM file is built "
        "from its firmware, guest policy and kernel hashes");
  CHECK(load_error(d, "name: t\nkernel: vmlinuz\noutputs:\n  direct: false\n  igvm: {}\n" + kSnp) ==
        "recipe.yaml:5:9: error: outputs.igvm needs outputs.direct: QEMU boots the IGVM guest "
        "with the kernel, initrd and cmdline outputs");
  CHECK(load_error(d, kHead + "    vcpus: [2, 2]\n" + kSnp) ==
        "recipe.yaml:5:16: error: 'vcpus' lists 2 twice");
  CHECK(load_error(d, kHead + "    vcpus: 513\n" + kSnp).rfind("recipe.yaml:5:12: error:", 0) == 0);
  CHECK(load_error(d, kHead + "    vcpu_type: EPYC-Milano\n" + kSnp)
            .rfind("recipe.yaml:5:16: error: 'vcpu_type' must be one of", 0) == 0);
  CHECK(load_error(d, kHead + "    vcpu_sig: \"0x1ffffffff\"\n" + kSnp) ==
        "recipe.yaml:5:15: error: 'vcpu_sig' must fit 32 bits");
  CHECK(load_error(d, kHead + "    guest_features: x\n" + kSnp) ==
        "recipe.yaml:5:21: error: 'guest_features' must be an integer such as 0x1, not 'x'");
  CHECK(load_error(d, kHead + "    vcpus: 1\n" +
                          "measurements:\n  snp:\n    firmware: ovmf.fd\n"
                          "    vcpu_types: [EPYC-Milan, EPYC-Rome]\n") ==
        "recipe.yaml:5:5: error: outputs.igvm needs 'vcpu_type' or 'vcpu_sig': measurements.snp "
        "does not name exactly one vCPU type or signature to take it from");
  CHECK(load_error(d, kHead + "    vcpus: 1\n" + kSnp + "    guest_features: [1, 2]\n") ==
        "recipe.yaml:5:5: error: outputs.igvm needs 'guest_features': measurements.snp lists "
        "more than one value");
  CHECK(load_error(d, kHead + "    vcpu_type: EPYC\n    vcpu_sig: 1\n" + kSnp) ==
        "recipe.yaml:6:15: error: 'vcpu_type' and 'vcpu_sig' exclude each other");
  CHECK(load_error(d, kHead + "    file: x\n" + kSnp)
            .rfind("recipe.yaml:5:5: error: unknown key 'file' in 'igvm'", 0) == 0);
}
