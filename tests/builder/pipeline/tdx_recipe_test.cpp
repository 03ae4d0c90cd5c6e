// measurements.tdx in a recipe: the manifest's MRTD and RTMR0-2 equal what
// `mkguest measure tdx` (checked against independent values in
// tdx_rtmr_test.cpp) prints for the built kernel, initrd and cmdline or for
// the built UKI; a CCEL log written from the manifest's events passes
// `verify-eventlog --manifest` and an altered one does not; `export trustee`
// publishes the values; recipe errors name the place.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "builder/measure/tdx_json.h"
#include "firmware/ccel.h"
#include "tests/tdx_fixture.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

// Copies the pinned Debian OVMF.fd and kernel into `dir` (false: skipped).
bool debian_inputs(const fs::path& dir) {
  std::string why;
  const fs::path ovmf = test::tdx::debian_ovmf(&why);
  const fs::path kernel = ovmf.empty() ? fs::path() : test::tdx::debian_kernel(&why);
  if (ovmf.empty() || kernel.empty()) {
    test::skip_or_fail(why);
    return false;
  }
  fs::copy_file(ovmf, dir / "OVMF.fd");
  fs::copy_file(kernel, dir / "vmlinuz");
  return true;
}

nlohmann::json measure_json(const fs::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), {"measure", "tdx", "--json", "--firmware", "OVMF.fd"});
  auto r = test::run_mkguest(args, {}, dir);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

void check_same_prediction(const nlohmann::json& got, const nlohmann::json& want) {
  CHECK(got["mr_td"] == want["mr_td"]);
  for (const char* k : {"rtmr_0", "rtmr_1", "rtmr_2", "profile", "events", "trustee"}) {
    INFO(k);
    CHECK(got[k] == want[k]);
  }
}

}  // namespace

TEST_CASE("measurements.tdx of a direct boot equals measure tdx over the built files", "[tdx]") {
  test::TempDir d;
  if (!debian_inputs(d.path())) return;
  test::write_text(d / "init", "#!/bin/sh\n");
  test::write_text(d / "recipe.yaml", R"(name: tdx-demo
source_date_epoch: 1700000000
kernel: vmlinuz
cmdline: [console=ttyS0, "img=${name}"]
initrd:
  files: [{src: init, dst: /init}]
measurements:
  tdx:
    firmware: OVMF.fd
    profile: edk2-202408-qemu8
    ram_mib: 4096
)");
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  REQUIRE(b.exit_code == 0);
  const auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  const auto& t = m["measurements"]["tdx"];
  CHECK(t["boot"] == "direct-qemu");
  CHECK(t["ram_mib"] == 4096);
  CHECK(t["firmware"]["sha256"] == test::sha256_file(d / "OVMF.fd"));
  const std::string cmdline = test::read_text(d / "out/cmdline");
  CHECK(cmdline == "console=ttyS0 img=tdx-demo");
  check_same_prediction(
      t, measure_json(d.path(), {"--kernel", "out/kernel", "--initrd", "out/initrd", "--append",
                                 cmdline, "--ram", "4G", "--profile", "edk2-202408-qemu8"}));
  // Another RAM size changes the TD HOB (RTMR0) and, below 2 GiB, where QEMU
  // puts the initrd, hence its kernel edits (RTMR1).
  const auto other =
      measure_json(d.path(), {"--kernel", "out/kernel", "--initrd", "out/initrd", "--append",
                              cmdline, "--ram", "1G", "--profile", "edk2-202408-qemu8"});
  CHECK(other["rtmr_1"] != t["rtmr_1"]);
  // RTMR1 binds the kernel, RTMR2 the cmdline and initrd; no rootfs here.
  CHECK(t["covers"] == nlohmann::json({{"firmware", true},
                                       {"kernel", true},
                                       {"initrd", true},
                                       {"cmdline", true},
                                       {"rootfs", false}}));
  // An edk2 that measures no RTMR binds the firmware only (MRTD): refused,
  // naming the place, unless the recipe says `kernel_events: false`; then a
  // warning, and covers in the manifest.
  auto refused = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "old", "--set",
                                    "measurements.tdx.profile=debian-bookworm"},
                                   {}, d.path());
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("recipe.yaml:") &&
                              Catch::Contains("profile debian-bookworm: the firmware measures no "
                                              "kernel into RTMR 1") &&
                              Catch::Contains("kernel_events: false"));
  CHECK_FALSE(fs::exists(d / "old"));
  auto moot = test::run_mkguest(
      {"build", "-q", "recipe.yaml", "-o", "moot", "--set", "measurements.tdx.kernel_events=false"},
      {}, d.path());
  CHECK(moot.exit_code == 2);
  CHECK_THAT(moot.err, Catch::Contains("kernel_events is false, but profile"));
  auto old = test::run_mkguest(
      {"build", "-q", "recipe.yaml", "-o", "old", "--set",
       "measurements.tdx.profile=debian-bookworm", "--set", "measurements.tdx.kernel_events=false"},
      {}, d.path());
  REQUIRE(old.exit_code == 0);
  CHECK_THAT(old.err, Catch::Contains("warning: measurements.tdx (profile debian-bookworm): the "
                                      "value does not bind the kernel, initrd, cmdline"));
  const auto om = nlohmann::json::parse(test::read_text(d / "old/manifest.json"));
  CHECK(om["measurements"]["tdx"]["covers"]["kernel"] == false);
  CHECK(om["measurements"]["tdx"]["covers"]["firmware"] == true);

  // verify re-derives measurements.tdx from the outputs and the firmware.
  auto v = test::run_mkguest({"verify", "out", "--inputs", "."}, {}, d.path());
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  CHECK_THAT(v.out, Catch::Contains("tdx"));
  fs::copy(d / "out", d / "bad", fs::copy_options::recursive);
  auto bm = m;
  bm["measurements"]["tdx"]["rtmr_1"] = std::string(96, '0');
  test::write_text(d / "bad/manifest.json", bm.dump(2));
  v = test::run_mkguest({"verify", "bad", "--inputs", "."}, {}, d.path());
  CHECK(v.exit_code == 1);
  CHECK_THAT(v.out, Catch::Contains("tdx: rtmr_1: differs"));

  // A TD's CCEL log with exactly these events passes; one altered event fails.
  const auto events = tdx::events_from_json(t, "manifest.json");
  write_file(d / "ccel.bin", tdx::write_ccel(events));
  auto ok = test::run_mkguest(
      {"verify-eventlog", "--tdx", "ccel.bin", "--manifest", "out/manifest.json"}, {}, d.path());
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("event log matches the prediction") != std::string::npos);
  auto altered = events;
  altered.back().digest[5] ^= 1;
  write_file(d / "bad.bin", tdx::write_ccel(altered));
  auto bad = test::run_mkguest(
      {"verify-eventlog", "--tdx", "bad.bin", "--manifest", "out/manifest.json"}, {}, d.path());
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("DIFFERS") != std::string::npos);

  // export trustee publishes MRTD (both orders) and RTMR1/RTMR2 under the default policy's names.
  auto e = test::run_mkguest({"export", "trustee", "out", "-o", "rvps.json", "--values", "rv.json"},
                             {}, d.path());
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  const std::string rv = test::read_text(d / "rv.json");
  for (const auto& v : {t["mr_td"]["single-pass"], t["mr_td"]["two-pass"], t["rtmr_1"], t["rtmr_2"],
                        t["trustee"]["tdvfkernel"]}) {
    INFO(v);
    CHECK(rv.find(v.get<std::string>()) != std::string::npos);
  }
  CHECK(t["rtmr_0_complete"] == false);  // no ACPI blobs: not published
  CHECK(rv.find("rtmr_0") == std::string::npos);
}

TEST_CASE("measurements.tdx of a UKI build predicts the UKI boot", "[tdx][uki]") {
  test::TempDir d;
  if (!debian_inputs(d.path())) return;
  const fs::path stub = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";
  if (!fs::exists(stub)) {
    test::skip_or_fail(stub.string() +
                       " missing (scripts/install-deps --test installs systemd-boot-efi)");
    return;
  }
  fs::copy_file(stub, d / "stub.efi");
  test::write_text(d / "init", "#!/bin/sh\n");
  test::write_text(d / "recipe.yaml", R"(name: tdx-uki
source_date_epoch: 1700000000
kernel: vmlinuz
cmdline: console=ttyS0
initrd:
  files: [{src: init, dst: /init}]
outputs:
  uki: {stub: stub.efi, uname: null}
measurements:
  tdx: {firmware: OVMF.fd}
)");
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  REQUIRE(b.exit_code == 0);
  const auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  const auto& t = m["measurements"]["tdx"];
  CHECK(t["boot"] == "uki-qemu-kernel");
  CHECK(t["ram_mib"] == 2048);
  std::string file;
  for (const auto& o : m["outputs"]) {
    if (o["role"] == "uki") file = o["file"];
  }
  REQUIRE(!file.empty());
  check_same_prediction(t, measure_json(d.path(), {"--uki", "out/" + file}));
}

TEST_CASE("measurements.tdx errors name the place", "[tdx]") {
  test::TempDir d;
  test::write_text(d / "k", "kernel");
  test::write_text(d / "fw.fd", "firmware");
  test::write_text(d / "recipe.yaml",
                   "name: t\nkernel: k\nmeasurements:\n  tdx:\n"
                   "    firmware: fw.fd\n    profile: edk2-202408-qemu\n");
  auto r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("recipe.yaml:6:14: error: 'profile' must be one of ", 0) == 0);
  CHECK(r.err.find("(did you mean 'edk2-202408-qemu8'?)") != std::string::npos);
  test::write_text(d / "recipe.yaml",
                   "name: t\nkernel: k\nmeasurements:\n  tdx:\n    firmware: fw.fd\n"
                   "    ram_mib: 8\n");
  r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("recipe.yaml:6:14: error: ", 0) == 0);
  // A firmware without TDVF metadata fails the build and names the file.
  test::write_text(d / "recipe.yaml",
                   "name: t\nkernel: k\nmeasurements:\n  tdx:\n    firmware: fw.fd\n");
  r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("fw.fd") != std::string::npos);
  CHECK_FALSE(fs::exists(d / "out"));
}
