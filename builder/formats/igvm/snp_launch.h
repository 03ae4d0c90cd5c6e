// An IGVM file for SEV-SNP that reproduces QEMU's own launch of an OVMF
// image (docs/igvm.md §5): the OVMF pages at 4 GiB minus its size, the SEV
// metadata sections in file order (SNP_SEC_MEM and SVSM CAA as pages without
// data, the secrets and CPUID pages, the SNP_KERNEL_HASHES page with the SEV
// hashes table or without data), then one VMSA per vCPU at 0xFFFFFFFFF000,
// as firmware/snp_measure.h models them. Measured with --native-zero it
// gives the digest `measure snp` (and sev-snp-measure) gives. Pure.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/digest.h"
#include "firmware/sev_metadata.h"
#include "firmware/snp_measure.h"

namespace mkguest::igvm {

// Only `in.mode` snp with `in.vmm` QEMU and without `in.ovmf_hash`
// (ValueError otherwise); the guest policy goes into IGVM_VHT_GUEST_POLICY.
// `firmware_name` names the firmware in errors.
Bytes snp_launch_igvm(std::span<const std::uint8_t> ovmf, const SevFirmware& fw,
                      const SnpInputs& in, std::uint64_t guest_policy,
                      const std::string& firmware_name);

}  // namespace mkguest::igvm
