#include "builder/pipeline/snp_stage.h"

#include <cstdio>
#include <optional>

#include "base/error.h"
#include "base/file.h"
#include "builder/pipeline/coverage.h"
#include "firmware/snp_id_block.h"
#include "firmware/snp_measure.h"

namespace mkguest {

namespace {
std::string hex_value(std::uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}
}  // namespace

snp::SnpPolicy snp_policy_of(const recipe::SnpSpec& s) {
  snp::SnpPolicy p;
  p.abi_major = static_cast<std::uint8_t>(s.abi_major);
  p.abi_minor = static_cast<std::uint8_t>(s.abi_minor);
  p.smt_allowed = s.smt_allowed;
  p.migrate_ma = s.migrate_ma;
  p.debug = s.debug;
  p.single_socket = s.single_socket;
  return p;
}

bool snp_uses_kernel_hashes(const BuildContext& ctx, const SevFirmware& fw) {
  const recipe::SnpSpec& s = ctx.recipe.measurements.snp;
  const KernelHashes want = ctx.plan.snp.kernel_hashes;
  bool hashes = want == KernelHashes::kOn ||
                (want == KernelHashes::kAuto && fw.has_section(SevSectionType::kSnpKernelHashes));
  if (hashes && !fw.has_section(SevSectionType::kSnpKernelHashes)) {
    throw file_error(s.firmware_display,
                     "kernel_hashes is true, but the firmware has no SNP_KERNEL_HASHES section");
  }
  // Without the hashes table the digest covers the firmware and the VMSAs
  // only: a verifier holding it accepts any kernel. Only an explicit
  // `kernel_hashes: false` accepts that.
  if (!hashes && want != KernelHashes::kOff) {
    throw InputError(s.mark.file, s.mark.place(),
                     "measurements.snp: the firmware " + s.firmware_display +
                         " has no SNP_KERNEL_HASHES section, so the launch digest would bind "
                         "only the firmware and the vCPU state, not the kernel, initrd, cmdline "
                         "or rootfs (a verifier would accept any kernel); use a firmware built "
                         "with kernel hashes (OVMF AmdSevX64), or set 'kernel_hashes: false' to "
                         "accept a digest that binds no kernel");
  }
  return hashes;
}

std::optional<SevHashes> snp_hashes_table(const BuildContext& ctx, const SevFirmware& fw) {
  if (!snp_uses_kernel_hashes(ctx, fw)) return std::nullopt;
  // The artifacts' digests were taken while they were written.
  const Bytes empty = digest(HashAlg::kSha256, "");
  if (!ctx.artifacts.kernel) throw InternalError("measurements.snp: no kernel artifact");
  return sev_hashes_from(ctx.artifacts.kernel->sha256,
                         ctx.artifacts.initrd ? ctx.artifacts.initrd->sha256 : empty, ctx.cmdline);
}

void stage_measure_snp(BuildContext& ctx) {
  const recipe::SnpSpec& s = ctx.recipe.measurements.snp;
  const InputFile& fw_file = *ctx.plan.snp.firmware;
  ByteReader reader(fw_file.bytes(), s.firmware_display);
  SevFirmware fw = parse_sev_firmware(reader);
  const bool hashes = snp_uses_kernel_hashes(ctx, fw);
  Coverage covers;
  covers.firmware = true;
  covers.kernel = covers.initrd = covers.cmdline = hashes;
  covers = with_rootfs(covers, ctx);
  warn_unbound(ctx, "measurements.snp", covers,
               hashes ? "the cmdline carries no verity root hash"
                      : "kernel_hashes: false; the firmware " + s.firmware_display +
                            " has no SNP_KERNEL_HASHES section");
  const std::optional<SevHashes> table = snp_hashes_table(ctx, fw);
  // The vCPU signatures: named types first, then explicit signatures.
  std::vector<std::pair<std::string, std::uint32_t>> sigs;
  for (const auto& t : s.vcpu_types) {
    std::uint32_t sig = 0;
    snp_vcpu_signature(t, &sig);
    sigs.emplace_back(t, sig);
  }
  for (auto sig : s.vcpu_sigs) sigs.emplace_back("", sig);

  const std::uint64_t policy = snp::snp_policy_word(snp_policy_of(s));
  // The ID block of each launch digest, signed with the recipe's keys
  // (snp-create-id-block's layout; RFC 6979 nonces, so reproducible).
  const recipe::SnpIdBlockSpec& idb = s.id_block;
  std::string id_key_pem, author_key_pem;
  SnpIdBlockInputs id_in;
  if (idb.present) {
    id_key_pem = read_text_file(idb.id_key);
    author_key_pem = read_text_file(idb.author_key);
    id_in.policy = policy;
    id_in.guest_svn = idb.guest_svn;
    if (!from_hex(idb.family_id, &id_in.family_id) || !from_hex(idb.image_id, &id_in.image_id))
      throw InternalError("measurements.snp.id_block: ids are not hex");
  }
  std::optional<SnpIdBlock> first_id_block;

  nlohmann::json entries = nlohmann::json::array();
  Bytes ovmf_hash = snp_ovmf_hash(fw_file.bytes());
  for (const auto& [vmm_name, vmm_kind] : ctx.plan.snp.vmms) {
    const VmmType vmm = vmm_kind == SnpVmm::kEc2   ? VmmType::kEc2
                        : vmm_kind == SnpVmm::kGce ? VmmType::kGce
                                                   : VmmType::kQemu;
    // Only QEMU puts the vCPU signature into the VMSA.
    auto vmm_sigs =
        vmm == VmmType::kQemu ? sigs : std::vector<std::pair<std::string, std::uint32_t>>{{"", 0}};
    for (const auto& [type, sig] : vmm_sigs) {
      for (auto vcpus : s.vcpus) {
        for (auto features : s.guest_features) {
          SnpInputs in;
          in.mode = SevMode::kSnp;
          in.vmm = vmm;
          in.vcpus = vcpus;
          in.vcpu_sig = sig;
          in.guest_features = features;
          in.hashes = table;
          in.ovmf_hash = ovmf_hash;  // the OVMF pages, measured once
          Bytes ld = snp_launch_digest(fw_file.bytes(), fw, in, s.firmware_display);
          nlohmann::json e = {{"mode", "snp"},           {"vmm", vmm_name},
                              {"vcpus", vcpus},          {"guest_features", hex_value(features)},
                              {"kernel_hashes", hashes}, {"digest", to_hex(ld)}};
          if (vmm == VmmType::kQemu) {
            e["vcpu_sig"] = hex_value(sig);
            if (!type.empty()) e["vcpu_type"] = type;
          }
          if (idb.present) {
            id_in.launch_digest = ld;
            SnpIdBlock b = snp_make_id_block(id_in, id_key_pem, idb.id_key_display, author_key_pem,
                                             idb.author_key_display);
            e["id_block"] = base64_encode(b.id_block);
            e["id_auth"] = base64_encode(b.id_auth);
            if (!first_id_block) first_id_block = std::move(b);
          }
          entries.push_back(e);
        }
      }
    }
  }
  nlohmann::json& out = ctx.manifest.measurements()["snp"];
  out = {{"firmware", {{"path", s.firmware_display}, {"sha256", to_hex(fw_file.sha256)}}},
         {"ovmf_hash", to_hex(ovmf_hash)},
         {"launch_digests", entries},
         {"covers", coverage_json(covers)},
         {"policy",
          {{"value", hex_value(policy)},
           {"abi_major", s.abi_major},
           {"abi_minor", s.abi_minor},
           {"smt_allowed", s.smt_allowed},
           {"migrate_ma", s.migrate_ma},
           {"debug", s.debug},
           {"single_socket", s.single_socket}}}};
  if (first_id_block) {
    // The report's ID_KEY_DIGEST and AUTHOR_KEY_DIGEST: the same for every entry.
    out["id_key_digest"] = to_hex(first_id_block->id_key_digest);
    out["author_key_digest"] = to_hex(first_id_block->author_key_digest);
    out["id_block"] = {{"family_id", idb.family_id},
                       {"image_id", idb.image_id},
                       {"guest_svn", idb.guest_svn},
                       {"version", 1}};
  }
}

}  // namespace mkguest
