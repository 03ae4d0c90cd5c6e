// The `tdx` check of `mkguest verify`: the manifest's measurements.tdx
// re-derived from the artifacts in OUTDIR (the UKI, or the kernel, initrd and
// cmdline of a direct boot), the firmware input (checked against its recorded
// sha256 first), the host profile, the RAM size and, when recorded, the ACPI
// blobs: MRTD for both orders, RTMR0-2 and every expected event.
#include "base/digest.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/measure/tdx.h"
#include "builder/measure/tdx_json.h"
#include "builder/verify/verify.h"
#include "firmware/tdx_events.h"
#include "firmware/tdx_profile.h"

namespace mkguest::attest {
namespace fs = std::filesystem;

bool check_tdx(const VerifyContext& ctx, std::vector<Finding>* findings) {
  const json* t = find(ctx.manifest, {"measurements", "tdx"});
  if (!t) return false;
  const FirmwareInput fw_in = find_firmware(ctx, *t, "tdx", findings);
  if (!fw_in.found) return false;  // reported as skipped
  if (!fw_in.matches) return true;
  const Bytes& fw = fw_in.bytes;
  const fs::path& fw_file = fw_in.file;
  tdx::Profile profile;
  const std::string profile_file = find_string(*t, {"profile_file"});
  if (!profile_file.empty()) {
    const fs::path p = ctx.find_input(profile_file);
    if (p.empty()) return false;
    profile = tdx::parse_profile(read_text_file(p), profile_file);
  } else {
    profile = tdx::builtin_profile(find_string(*t, {"profile"}));
  }
  tdx::BootInputs in;
  in.firmware = fw;
  in.firmware_name = fw_file.string();
  const json* ram = find(*t, {"ram_mib"});
  in.ram = (ram && ram->is_number_unsigned() ? ram->get<std::uint64_t>() : 2048) << 20;
  std::optional<MappedFile> uki, kernel, initrd;
  if (find_string(*t, {"boot"}) == "uki-qemu-kernel") {
    const std::string f = output_file(ctx.manifest, "uki");
    if (f.empty()) {
      findings->push_back({"tdx", "boot", "a UKI boot, but the manifest has no UKI output"});
      return true;
    }
    uki.emplace(ctx.output_path(f));
    in.uki = uki->bytes();
    in.uki_name = f;
  } else {
    const std::string k = output_file(ctx.manifest, "kernel");
    if (k.empty()) {
      findings->push_back({"tdx", "boot", "a direct boot, but the manifest has no kernel output"});
      return true;
    }
    kernel.emplace(ctx.output_path(k));
    in.kernel = kernel->bytes();
    if (const std::string i = output_file(ctx.manifest, "initrd"); !i.empty()) {
      initrd.emplace(ctx.output_path(i));
      in.initrd = initrd->bytes();
    }
    if (const std::string c = output_file(ctx.manifest, "cmdline"); !c.empty()) {
      const Bytes b = read_file(ctx.output_path(c));
      if (!b.empty()) in.append = std::string(b.begin(), b.end());
    }
  }
  if (const std::string acpi = find_string(*t, {"acpi"}); !acpi.empty()) {
    const fs::path d = ctx.find_input(acpi);
    if (d.empty()) return false;
    in.table_loader = read_file(d / "table-loader");
    in.acpi_rsdp = read_file(d / "rsdp");
    in.acpi_tables = read_file(d / "tables");
  }
  const tdx::Prediction p = tdx::predict(in, profile);
  const json derived = json::parse(tdx::prediction_json(p, profile.name).dump());
  for (const char* k : {"mr_td", "rtmr_0", "rtmr_1", "rtmr_2", "trustee"}) {
    const json* rec = find(*t, {k});
    if (!rec || *rec != derived[k])
      findings->push_back({"tdx", k,
                           "differs: manifest " + (rec ? rec->dump() : std::string("(none)")) +
                               ", derived " + derived[k].dump()});
  }
  const json* events = find(*t, {"events"});
  if (!events || *events != derived["events"])
    findings->push_back({"tdx", "events", "the expected event list differs from the derived one"});
  return true;
}

}  // namespace mkguest::attest
