// `mkguest measure tdx`: MRTD (both page-add orders) and the expected RTMR0-2
// event list of a QEMU + TDVF boot (see firmware/tdx_events.h, docs/tdx.md).
#include <filesystem>
#include <iostream>

#include "base/error.h"
#include "base/file.h"
#include "builder/cli/commands.h"
#include "builder/measure/tdx.h"
#include "builder/measure/tdx_json.h"
#include "firmware/tdx_events.h"
#include "firmware/tdx_profile.h"

namespace mkguest::cli {
namespace {

namespace fs = std::filesystem;

struct MeasureTdxArgs {
  std::string firmware, kernel, initrd, uki, profile, ram = "2G", acpi, page_order = "both";
  std::string append;
  bool has_append = false;
  bool json = false, list_profiles = false;
};

std::uint64_t parse_size(const std::string& s) {
  std::size_t used = 0;
  std::uint64_t v = 0;
  try {
    v = std::stoull(s, &used, 10);
  } catch (const std::exception&) {
    throw UsageError("--ram: '" + s + "' is not a size (e.g. 2G, 2048M, 2147483648)");
  }
  const std::string unit = s.substr(used);
  int shift = 0;
  if (unit == "K" || unit == "KiB")
    shift = 10;
  else if (unit == "M" || unit == "MiB")
    shift = 20;
  else if (unit == "G" || unit == "GiB")
    shift = 30;
  else if (unit == "T" || unit == "TiB")
    shift = 40;
  else if (!unit.empty())
    throw UsageError("--ram: unknown unit '" + unit + "' (K, M, G, T)");
  if (s.empty() || s[0] == '-' || (shift && v > (~0ull >> shift)))
    throw UsageError("--ram: '" + s + "' is out of range");
  return v << shift;
}

tdx::Profile load_profile(const std::string& p) {
  if (p.empty()) return tdx::builtin_profile(tdx::default_profile_name());
  if (p.find('/') != std::string::npos || fs::exists(p))
    return tdx::parse_profile(read_text_file(p), p);
  return tdx::builtin_profile(p);
}

void run(const MeasureTdxArgs& a) {
  if (a.list_profiles) {
    for (const auto& n : tdx::builtin_profile_names()) {
      const auto p = tdx::builtin_profile(n);
      std::cout << n << (n == tdx::default_profile_name() ? " (default)" : "") << ": "
                << p.description << "\n";
    }
    return;
  }
  if (a.firmware.empty()) throw UsageError("measure tdx: --firmware is required");
  if (a.page_order != "both" && a.page_order != "single-pass" && a.page_order != "two-pass")
    throw UsageError("--page-order must be single-pass, two-pass or both");
  const tdx::Profile profile = load_profile(a.profile);
  MappedFile fw(a.firmware);
  std::optional<MappedFile> kernel, initrd, uki;
  tdx::BootInputs in;
  in.firmware = fw.bytes();
  in.firmware_name = a.firmware;
  in.ram = parse_size(a.ram);
  if (!a.kernel.empty()) {
    kernel.emplace(a.kernel);
    in.kernel = kernel->bytes();
    in.kernel_name = a.kernel;
  }
  if (!a.initrd.empty()) {
    initrd.emplace(a.initrd);
    in.initrd = initrd->bytes();
  }
  if (!a.uki.empty()) {
    uki.emplace(a.uki);
    in.uki = uki->bytes();
    in.uki_name = a.uki;
  }
  if (a.has_append) in.append = a.append;
  if ((in.initrd || in.append) && !in.kernel)
    throw UsageError("--initrd and --append need --kernel");
  if (!a.acpi.empty()) {
    const fs::path d(a.acpi);
    in.table_loader = read_file(d / "table-loader");
    in.acpi_rsdp = read_file(d / "rsdp");
    in.acpi_tables = read_file(d / "tables");
  }
  const tdx::Prediction pr = tdx::predict(in, profile);
  if (a.json) {
    auto j = tdx::prediction_json(pr, profile.name);
    if (a.page_order != "both")
      j["mr_td"].erase(a.page_order == "single-pass" ? "two-pass" : "single-pass");
    std::cout << j.dump(2) << "\n";
    return;
  }
  if (a.page_order != "two-pass")
    std::cout << "MRTD (single-pass)  " << to_hex(pr.mrtd_single_pass) << "\n";
  if (a.page_order != "single-pass")
    std::cout << "MRTD (two-pass)     " << to_hex(pr.mrtd_two_pass) << "\n";
  std::cout << "RTMR0               "
            << (pr.rtmr0_complete ? to_hex(pr.rtmr[0]) : "incomplete (see notes)") << "\n";
  std::cout << "RTMR1               " << to_hex(pr.rtmr[1]) << "\n";
  std::cout << "RTMR2               " << to_hex(pr.rtmr[2]) << "\n";
  std::cout << "RTMR3               runtime, not predicted\n";
  std::cout << "profile             " << profile.name << "\n";
  for (const auto& n : pr.notes) std::cout << "note: " << n << "\n";
}

}  // namespace

void register_measure_tdx(CLI::App& app) {
  auto a = std::make_shared<MeasureTdxArgs>();
  auto* cmd = measure_group(app)->add_subcommand(
      "tdx",
      "Intel TDX: MRTD for both host page-add orders and the expected RTMR0-2 events of a "
      "QEMU + TDVF boot (direct kernel or UKI via -kernel). RTMR0 needs the host's ACPI blobs "
      "(--acpi); RTMR3 is extended at run time and not predicted.");
  cmd->add_option("--firmware", a->firmware, "TDVF/OVMF image (unified OVMF.fd)");
  cmd->add_option("--page-order", a->page_order,
                  "MRTD page-add order: single-pass (upstream KVM, QEMU >= 9), two-pass "
                  "(KVM-TDX v19, Canonical QEMU 8.2) or both")
      ->capture_default_str();
  cmd->add_option("--kernel", a->kernel, "bzImage passed with QEMU -kernel");
  cmd->add_option("--initrd", a->initrd, "initrd passed with QEMU -initrd");
  cmd->add_option_function<std::string>(
      "--append", [a](const std::string& s) { a->append = s, a->has_append = true; },
      "kernel command line passed with QEMU -append");
  cmd->add_option("--uki", a->uki, "UKI passed with QEMU -kernel (instead of --kernel)");
  cmd->add_option("--profile", a->profile,
                  "host profile: a shipped name (see --list-profiles) or a YAML file; default " +
                      tdx::default_profile_name());
  cmd->add_option("--ram", a->ram, "guest RAM size (QEMU -m), e.g. 2G")->capture_default_str();
  cmd->add_option("--acpi", a->acpi,
                  "directory holding the host's fw_cfg ACPI blobs: table-loader, rsdp, tables");
  cmd->add_flag("--json", a->json, "print registers and every expected event as JSON");
  cmd->add_flag("--list-profiles", a->list_profiles, "list the shipped host profiles");
  cmd->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
