// The neighbourhood search behind `explain` for an SEV-SNP MEASUREMENT that is
// not in the manifest: every combination of VMM, vCPU signature, guest
// features word and kernel hashes on/off, for 1 to max_vcpus vCPUs, computed
// with the one SNP launch-digest function (firmware/snp_measure.h).
//
// Cost: the OVMF pages are hashed once (the caller passes their digest, the
// manifest's ovmf_hash, as the starting state), the metadata sections once per
// VMM and kernel-hashes setting; each combination then costs one BSP page, and
// every further vCPU one PAGE_INFO hash (SEV-SNP ABI SNP_LAUNCH_UPDATE,
// docs/specs/snp.md §2.1) on top of the previous count's digest. Combinations
// run on all cores.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "firmware/sev_metadata.h"
#include "firmware/snp_measure.h"

namespace mkguest::attest {

struct SnpLaunchParams {
  VmmType vmm = VmmType::kQemu;
  std::uint32_t vcpus = 1;
  std::uint32_t vcpu_sig = 0;  // QEMU only; EC2 and GCE fix the VMSA's RDX
  std::uint64_t guest_features = 0x1;
  bool kernel_hashes = false;
};

struct SnpSearchSpace {
  std::uint32_t max_vcpus = 512;
  std::vector<VmmType> vmms;
  std::vector<std::uint32_t> vcpu_sigs;
  std::vector<std::uint64_t> guest_features;
  // The kernel, initrd and cmdline of the build: with them, "kernel hashes on"
  // is tried too (when the firmware has an SNP_KERNEL_HASHES section).
  std::optional<SevHashes> hashes;
};

// Every VMM, every vCPU signature of snp_vcpu_types(), and the common guest
// features words: 0x1 (SNPActive, the default), 0x21 (+DebugSwap, host kernels
// 6.6 and 6.7), 0x5, 0x9, 0x41, 0x201 and their DebugSwap variants.
SnpSearchSpace default_snp_search_space();

// One more vCPU: LD' = SHA-384(PAGE_INFO(LD, SHA-384(vmsa), VMSA, 0xFFFFFFFFF000)).
Bytes snp_add_vmsa_page(std::span<const std::uint8_t> ld, std::span<const std::uint8_t> vmsa);
// The same from the VMSA page's SHA-384 (hashed once for many vCPUs).
Bytes snp_add_vmsa_digest(std::span<const std::uint8_t> ld,
                          std::span<const std::uint8_t> vmsa_sha384);

// Every parameter set of `space` whose launch digest is `target`, ordered by
// VMM, signature, features, hashes and vCPU count. `ovmf_hash` is the digest
// of the OVMF pages (snp_ovmf_hash).
std::vector<SnpLaunchParams> search_snp_measurement(std::span<const std::uint8_t> ovmf,
                                                    const SevFirmware& fw, const Bytes& ovmf_hash,
                                                    const SnpSearchSpace& space,
                                                    std::span<const std::uint8_t> target,
                                                    const std::string& firmware_name,
                                                    unsigned threads);

// "QEMU", "ec2", "gce" (as sev-snp-measure and the manifest spell them).
const char* vmm_name(VmmType v);

}  // namespace mkguest::attest
