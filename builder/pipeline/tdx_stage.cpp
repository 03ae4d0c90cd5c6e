#include "builder/pipeline/tdx_stage.h"

#include <memory>

#include "base/error.h"
#include "base/file.h"
#include "builder/measure/tdx.h"
#include "builder/measure/tdx_json.h"
#include "builder/pipeline/coverage.h"
#include "firmware/tdx_events.h"
#include "firmware/tdx_profile.h"

namespace mkguest {

void stage_measure_tdx(BuildContext& ctx) {
  const recipe::TdxSpec& s = ctx.recipe.measurements.tdx;
  const InputFile& fw = *ctx.plan.tdx_firmware;
  const tdx::Profile profile =
      !s.profile_file.empty() ? tdx::parse_profile(read_text_file(s.profile_file), s.profile)
      : s.profile.empty()     ? tdx::builtin_profile(tdx::default_profile_name())
                              : tdx::builtin_profile(s.profile);
  tdx::BootInputs in;
  in.firmware = fw.bytes();
  in.firmware_name = s.firmware_display;
  in.ram = s.ram_mib << 20;
  std::unique_ptr<MappedFile> uki, kernel, initrd;
  std::string boot;
  if (ctx.artifacts.uki) {
    uki = std::make_unique<MappedFile>(ctx.path_of(*ctx.artifacts.uki));
    in.uki = uki->bytes();
    in.uki_name = ctx.artifacts.uki->file;
    boot = "uki-qemu-kernel";
  } else {
    if (!ctx.artifacts.kernel) throw InternalError("measurements.tdx: no kernel artifact");
    kernel = std::make_unique<MappedFile>(ctx.path_of(*ctx.artifacts.kernel));
    in.kernel = kernel->bytes();
    if (ctx.artifacts.initrd) {
      initrd = std::make_unique<MappedFile>(ctx.path_of(*ctx.artifacts.initrd));
      in.initrd = initrd->bytes();
    }
    if (!ctx.cmdline.empty()) in.append = ctx.cmdline;
    boot = "direct-qemu";
  }
  if (!s.acpi_dir.empty()) {
    in.table_loader = read_file(s.acpi_dir / "table-loader");
    in.acpi_rsdp = read_file(s.acpi_dir / "rsdp");
    in.acpi_tables = read_file(s.acpi_dir / "tables");
  }
  const tdx::Prediction p = tdx::predict(in, profile);
  nlohmann::json j = nlohmann::json::parse(tdx::prediction_json(p, profile.name).dump());
  j["firmware"] = {{"path", s.firmware_display}, {"sha256", to_hex(fw.sha256)}};
  j["boot"] = boot;
  j["ram_mib"] = s.ram_mib;
  if (!s.profile_file.empty()) j["profile_file"] = s.profile_display;
  if (!s.acpi_dir.empty()) j["acpi"] = s.acpi_display;
  // What the registers bind: MRTD the firmware; RTMR1 the kernel (or the UKI
  // with everything in it) as the firmware starts it; RTMR2 the LoadOptions
  // and the initrd, as the Linux EFI stub measures them. An edk2 that
  // measures nothing into the RTMRs leaves MRTD alone.
  bool rtmr1_image = false, rtmr2_cmdline = false, rtmr2_initrd = false;
  for (const auto& e : p.events) {
    rtmr1_image = rtmr1_image || (e.rtmr == 1 && e.type == tdx::kEvEfiBootServicesApplication);
    // The stub measures through the firmware's CC protocol: none without it.
    if (profile.cc_measurement && e.rtmr == 2 && e.type == tdx::kEvEventTag) {
      rtmr2_initrd = rtmr2_initrd || e.description == "Linux initrd";
      rtmr2_cmdline = rtmr2_cmdline || e.description.rfind("LOADED_IMAGE::LoadOptions", 0) == 0;
    }
  }
  Coverage covers;
  covers.firmware = true;
  covers.kernel = rtmr1_image;
  if (uki) {
    covers.initrd = covers.cmdline = rtmr1_image;
  } else {
    // No LoadOptions event when there is neither a cmdline nor an initrd.
    covers.cmdline = rtmr2_cmdline || (rtmr1_image && !in.append && !in.initrd);
    covers.initrd = rtmr2_initrd || (rtmr1_image && !in.initrd);
  }
  // Registers that bind no kernel let a verifier accept any kernel: only an
  // explicit `kernel_events: false` accepts that (as kernel_hashes for SNP).
  if (!covers.kernel && s.kernel_events != "false") {
    throw InputError(s.mark.file, s.mark.place(),
                     "measurements.tdx: profile " + profile.name +
                         ": the firmware measures no kernel into RTMR 1, so MRTD and the RTMRs "
                         "would bind only the firmware, not the kernel, initrd, cmdline or "
                         "rootfs (a verifier would accept any kernel); use a profile of an edk2 "
                         "that measures the kernel (e.g. " +
                         tdx::default_profile_name() +
                         "), or set 'kernel_events: false' to accept values that bind no kernel");
  }
  if (covers.kernel && s.kernel_events == "false") {
    throw InputError(s.kernel_events_mark.file, s.kernel_events_mark.place(),
                     "measurements.tdx: kernel_events is false, but profile " + profile.name +
                         " measures the kernel into RTMR 1: remove the key");
  }
  covers = with_rootfs(covers, ctx);
  j["covers"] = coverage_json(covers);
  warn_unbound(ctx, "measurements.tdx (profile " + profile.name + ")", covers,
               profile.cc_measurement ? "its edk2 does not measure them into the RTMRs"
                                      : "its edk2 measures nothing into the RTMRs; MRTD only");
  if (!p.rtmr0_complete)
    ctx.warnings.push_back(
        "measurements.tdx: rtmr_0 is incomplete without the host's ACPI blobs "
        "(measurements.tdx.acpi); it cannot be compared");
  // Chosen by the VMM, not by the image: carried from the recipe when pinned.
  if (!s.td_attributes.empty()) j["td_attributes"] = s.td_attributes;
  if (!s.xfam.empty()) j["xfam"] = s.xfam;
  ctx.manifest.measurements()["tdx"] = j;
}

}  // namespace mkguest
