// The `igvm` check of `mkguest verify` (docs/igvm.md §7): every IGVM file of
// measurements.snp.igvm read again strictly and measured by the function
// `measure igvm` uses (--native-zero); and, when the firmware input is found
// and is the recorded one, the file written again from the firmware and the
// kernel, initrd and cmdline outputs (igvm::snp_launch_igvm), byte for byte.
#include <cstdlib>

#include "base/byte_reader.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/formats/igvm/reader.h"
#include "builder/formats/igvm/snp_launch.h"
#include "builder/measure/igvm/measure.h"
#include "builder/verify/verify.h"
#include "firmware/snp_measure.h"

namespace mkguest::attest {
namespace fs = std::filesystem;

bool check_igvm(const VerifyContext& ctx, std::vector<Finding>* findings) {
  const json* entries = find(ctx.manifest, {"measurements", "snp", "igvm"});
  if (!entries) return false;
  if (!entries->is_array()) {
    findings->push_back({"igvm", "measurements.snp.igvm", "is not a list"});
    return true;
  }
  const json& snp = *find(ctx.manifest, {"measurements", "snp"});
  // A wrong firmware is check_snp's finding; here it only stops the rebuild.
  std::vector<Finding> ignored;
  const FirmwareInput fw_in = find_firmware(ctx, snp, "igvm", &ignored);
  std::optional<SevFirmware> fw;
  if (fw_in.found && fw_in.matches)
    fw = parse_sev_firmware(ByteReader(fw_in.bytes, fw_in.file.string()));
  const std::uint64_t policy = parse_hex_or(find_string(snp, {"policy", "value"}), 0x30000);
  std::optional<SevHashes> table;
  std::size_t index = 0;
  for (const auto& e : *entries) {
    const std::string subject = "igvm[" + std::to_string(index++) + "]";
    const std::string name = find_string(e, {"file"});
    const fs::path p = ctx.output_path(name);
    if (name.empty() || !fs::exists(p)) {
      findings->push_back({"igvm", subject, "the file '" + name + "' is missing"});
      continue;
    }
    const Bytes bytes = read_file(p);
    try {
      const igvm::File parsed = igvm::parse_igvm(bytes, name);
      const igvm::Measurement m = igvm::measure_snp(parsed, {true, false}, name);
      const std::string recorded = find_string(e, {"digest"});
      if (to_hex(m.digest) != recorded)
        findings->push_back(
            {"igvm", subject, "differs: manifest " + recorded + ", measured " + to_hex(m.digest)});
    } catch (const InputError& x) {
      findings->push_back({"igvm", subject, std::string("not a valid IGVM file: ") + x.what()});
      continue;
    }
    if (!fw) continue;
    SnpInputs in;
    const json* vcpus = find(e, {"vcpus"});
    in.vcpus = vcpus && vcpus->is_number_unsigned() ? vcpus->get<std::uint32_t>() : 1;
    in.vcpu_sig = static_cast<std::uint32_t>(parse_hex_or(find_string(e, {"vcpu_sig"}), 0));
    in.guest_features = parse_hex_or(find_string(e, {"guest_features"}), 1);
    const json* kh = find(e, {"kernel_hashes"});
    if (kh && kh->is_boolean() && kh->get<bool>()) {
      if (!table) table = output_sev_hashes(ctx, output_cmdline(ctx));  // once for every file
      in.hashes = table;
    }
    const Bytes again = igvm::snp_launch_igvm(fw_in.bytes, *fw, in, policy, fw_in.file.string());
    if (again != bytes)
      findings->push_back({"igvm", subject,
                           "the file '" + name +
                               "' is not the IGVM file the firmware, the outputs and the "
                               "manifest's entry give"});
  }
  return true;
}

}  // namespace mkguest::attest
