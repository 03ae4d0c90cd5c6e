// The flagship example, examples/coco-guest: its predicted values are the
// reference tools' (SNP: sev-snp-measure 0.0.13 in tests/vectors/snp.txt;
// TDX MRTD: calculate-tdx-mrs and an independent model, tests/vectors/tdx/
// README.md; the vTPM PCRs are compared with a booted guest by tests/e2e),
// what each binds is stated, and `mkguest show` prints all of it.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

// The output of the sev-snp-measure 0.0.13 run on Debian's OVMF_CODE.fd with
// these arguments, from tests/vectors/snp.txt.
std::string snp_vector(int vcpus, const std::string& type) {
  std::ifstream f(test::source_dir() / "tests/vectors/snp.txt");
  const std::string args = "--mode snp --vcpus " + std::to_string(vcpus) + " --vcpu-type " + type +
                           " --ovmf deb12_OVMF_CODE.fd | 0 | ";
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(args, 0) == 0) return line.substr(args.size());
  }
  return "(no vector for " + args + ")";
}

bool have_inputs() {
  if (!fs::exists(test::source_dir() / ".cache/debian/sysroot/sbin/veritysetup") ||
      !fs::exists(test::source_dir() / ".cache/debian/OVMF/OVMF_CODE.fd")) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("examples/coco-guest predicts the reference tools' values and says what they bind",
          "[examples]") {
  if (!have_inputs()) return;
  test::TempDir d;
  const fs::path out = d / "out";
  auto r = test::run_mkguest({"build", "examples/coco-guest/recipe.yaml", "-o", out.string()}, {},
                             test::source_dir());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // Both unbound platforms are said on stderr.
  CHECK_THAT(r.err, Catch::Contains("warning: measurements.snp: the value does not bind the "
                                    "kernel, initrd, cmdline, rootfs"));
  CHECK_THAT(r.err, Catch::Contains("warning: measurements.tdx (profile debian-bookworm)"));
  const auto m = nlohmann::json::parse(test::read_text(out / "manifest.json"));
  const auto& ms = m["measurements"];

  // SNP: each digest is sev-snp-measure's for the same firmware and vCPUs.
  const auto& firmware = m["measurements"]["snp"]["firmware"];
  CHECK(firmware["sha256"] == "d9b568def24088c92f34b5479e0ed7e44d0a4d4cea8a0f5716719180bba48106");
  REQUIRE(ms["snp"]["launch_digests"].size() == 2);
  for (const auto& ld : ms["snp"]["launch_digests"]) {
    CHECK(ld["digest"] == snp_vector(ld["vcpus"].get<int>(), ld["vcpu_type"]));
  }
  CHECK(ms["snp"]["covers"]["firmware"] == true);
  CHECK(ms["snp"]["covers"]["kernel"] == false);

  // TDX: MRTD of Debian's OVMF.fd in both page orders (tests/vectors/tdx/README.md).
  CHECK(ms["tdx"]["mr_td"]["single-pass"] ==
        "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967f"
        "b231c47");
  CHECK(ms["tdx"]["mr_td"]["two-pass"] ==
        "acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed"
        "443f7e1");
  CHECK(ms["tdx"]["covers"]["kernel"] == false);

  // vTPM: the UKI binds everything in it; the exports are there.
  CHECK(ms["tpm"]["covers"]["uki"]["kernel"] == true);
  CHECK(ms["tpm"]["covers"]["uki"]["rootfs"] == true);
  CHECK(fs::is_regular_file(out / "rvps-message.json"));
  CHECK(fs::is_regular_file(out / "provenance.intoto.json"));

  // `mkguest show`: every value, and what each platform binds.
  auto s = test::run_mkguest({"show", out.string()});
  INFO(s.err);
  REQUIRE(s.exit_code == 0);
  CHECK_THAT(s.out, Catch::Contains(m["verity"]["root_hash"].get<std::string>()));
  for (const auto& ld : ms["snp"]["launch_digests"])
    CHECK_THAT(s.out, Catch::Contains(ld["digest"].get<std::string>()));
  CHECK_THAT(s.out, Catch::Contains("MRTD (single-pass)") && Catch::Contains("MRTD (two-pass)"));
  CHECK_THAT(s.out, Catch::Contains("binds: firmware; NOT bound: kernel, initrd, cmdline, rootfs"));
  CHECK_THAT(s.out, Catch::Contains(ms["tpm"]["pcr11"]["sha256"][0]["value"].get<std::string>()));
  CHECK_THAT(s.out, Catch::Contains(ms["tpm"]["pcr4"]["sha256"]["qemu-kernel"].get<std::string>()));
  CHECK_THAT(s.out, Catch::Contains("rvps-message.json"));
  auto j = test::run_mkguest({"show", "--json", (out / "manifest.json").string()});
  REQUIRE(j.exit_code == 0);
  const auto sj = nlohmann::json::parse(j.out);
  CHECK(sj["name"] == "coco-guest");
  bool snp_group = false;
  for (const auto& g : sj["groups"]) {
    if (g["key"] != "snp") continue;
    snp_group = true;
    CHECK(g["unbound"] == nlohmann::json::array({"kernel", "initrd", "cmdline", "rootfs"}));
    CHECK(g["values"].size() == 2);
  }
  CHECK(snp_group);
}

TEST_CASE("show names a missing or malformed manifest", "[examples][cli]") {
  test::TempDir d;
  auto none = test::run_mkguest({"show", d.path().string()});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("manifest.json"));
  test::write_text(d / "manifest.json",
                   "{\"manifest_version\": 1, \"measurements\": {\"snp\": {\"launch_digests\": "
                   "[{\"vcpus\": 1, \"digest\": 7}]}}}");
  auto bad = test::run_mkguest({"show", d.path().string()});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("measurements.snp.launch_digests[].digest: not a string"));
}
