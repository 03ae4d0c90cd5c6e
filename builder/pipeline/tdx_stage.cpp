#include "builder/pipeline/tdx_stage.h"

#include <memory>

#include "base/error.h"
#include "base/file.h"
#include "builder/measure/tdx.h"
#include "builder/measure/tdx_json.h"
#include "firmware/tdx_events.h"
#include "firmware/tdx_profile.h"

namespace mkguest {

void stage_measure_tdx(BuildContext& ctx) {
  const recipe::TdxSpec& s = ctx.recipe.measurements.tdx;
  MappedFile fw(s.firmware);
  ctx.manifest.add_input("firmware", s.firmware_display, fw.size(),
                         digest(HashAlg::kSha256, fw.bytes()));
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
  if (ctx.artifacts.count("uki")) {
    uki = std::make_unique<MappedFile>(ctx.path_of("uki"));
    in.uki = uki->bytes();
    in.uki_name = ctx.artifacts.at("uki").file;
    boot = "uki-qemu-kernel";
  } else {
    kernel = std::make_unique<MappedFile>(ctx.path_of("kernel"));
    in.kernel = kernel->bytes();
    if (ctx.artifacts.count("initrd")) {
      initrd = std::make_unique<MappedFile>(ctx.path_of("initrd"));
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
  j["firmware"] = {{"path", s.firmware_display},
                   {"sha256", to_hex(digest(HashAlg::kSha256, fw.bytes()))}};
  j["boot"] = boot;
  j["ram_mib"] = s.ram_mib;
  if (!s.profile_file.empty()) j["profile_file"] = s.profile_display;
  if (!s.acpi_dir.empty()) j["acpi"] = s.acpi_display;
  ctx.manifest.measurements()["tdx"] = j;
}

}  // namespace mkguest
