#include "builder/pipeline/igvm_stage.h"

#include <cstdio>

#include "base/byte_reader.h"
#include "base/error.h"
#include "builder/formats/igvm/reader.h"
#include "builder/formats/igvm/snp_launch.h"
#include "builder/measure/igvm/measure.h"
#include "builder/measure/snp_policy.h"
#include "builder/pipeline/snp_stage.h"
#include "firmware/snp_measure.h"

namespace mkguest {

namespace {
std::string hex_value(std::uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}
}  // namespace

std::string igvm_file_name(const std::string& platform, std::uint32_t vcpus) {
  return platform + "-" + std::to_string(vcpus) + "vcpu.igvm";
}

void stage_igvm(BuildContext& ctx) {
  const recipe::IgvmSpec& g = ctx.recipe.outputs.igvm;
  const recipe::SnpSpec& s = ctx.recipe.measurements.snp;
  if (!s.present || !ctx.plan.snp.firmware)
    throw InternalError("outputs.igvm without measurements.snp");
  const InputFile& fw_file = *ctx.plan.snp.firmware;
  ByteReader reader(fw_file.bytes(), s.firmware_display);
  const SevFirmware fw = parse_sev_firmware(reader);
  const std::optional<SevHashes> table = snp_hashes_table(ctx, fw);
  const std::uint64_t policy = snp::snp_policy_word(snp_policy_of(s));

  nlohmann::json entries = nlohmann::json::array();
  ctx.artifacts.igvm.assign(g.platforms.size() * g.vcpus.size(), std::nullopt);
  std::size_t slot = 0;
  for (const auto& platform : g.platforms) {
    if (platform != "snp") throw InternalError("outputs.igvm: platform " + platform);
    for (const std::uint32_t vcpus : g.vcpus) {
      SnpInputs in;
      in.mode = SevMode::kSnp;
      in.vmm = VmmType::kQemu;
      in.vcpus = vcpus;
      in.vcpu_sig = g.vcpu_sig;
      in.guest_features = g.guest_features;
      in.hashes = table;
      const Bytes file = igvm::snp_launch_igvm(fw_file.bytes(), fw, in, policy, s.firmware_display);
      const std::string name = igvm_file_name(platform, vcpus);
      ctx.write_artifact(ctx.artifacts.igvm[slot++],
                         "igvm-" + platform + "-" + std::to_string(vcpus) + "vcpu", name,
                         [&](ByteSink& out) {
                           out.write(file);
                           out.finish();
                         });
      // The digest of the bytes written, by `measure igvm --native-zero`'s
      // function: QEMU measures the pages without data as ZERO pages.
      const igvm::File parsed = igvm::parse_igvm(file, name);
      const igvm::Measurement m = igvm::measure_snp(parsed, {true, false}, name);
      nlohmann::json e = {{"file", name},
                          {"platform", "sev-snp"},
                          {"vmm", "QEMU"},
                          {"vcpus", vcpus},
                          {"vcpu_sig", hex_value(g.vcpu_sig)},
                          {"guest_features", hex_value(g.guest_features)},
                          {"kernel_hashes", table.has_value()},
                          {"native_zero", true},
                          {"pages", m.pages},
                          {"vmsas", m.vmsas},
                          {"digest", to_hex(m.digest)}};
      if (!g.vcpu_type.empty()) e["vcpu_type"] = g.vcpu_type;
      entries.push_back(e);
      // The exports (Trustee, CoRIM, Kata) carry launch_digests only.
      bool in_matrix = false;
      for (const auto& l : ctx.manifest.measurements()["snp"]["launch_digests"])
        in_matrix = in_matrix || l["digest"] == e["digest"];
      if (!in_matrix)
        ctx.warnings.push_back("outputs.igvm: the launch digest of " + name +
                               " is not among measurements.snp's launch digests, so no export "
                               "carries it; add its vCPU count, type and guest features to "
                               "measurements.snp");
    }
  }
  ctx.manifest.measurements()["snp"]["igvm"] = entries;
}

}  // namespace mkguest
