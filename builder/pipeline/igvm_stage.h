// The IGVM stage (outputs.igvm, docs/igvm.md §7): one IGVM file per vCPU
// count mirroring QEMU's SEV-SNP launch of the measurements.snp firmware
// (igvm::snp_launch_igvm), with the same guest policy and, when
// measurements.snp binds them, the kernel, initrd and cmdline through the SEV
// hashes table. Each file's launch digest, by the function `measure igvm`
// uses (igvm::measure_snp, --native-zero), goes into measurements.snp.igvm.
// Runs after the SNP measurement stage.
#pragma once

#include <string>

#include "builder/pipeline/pipeline.h"

namespace mkguest {

void stage_igvm(BuildContext& ctx);

// The file name of the IGVM output for `vcpus` ("snp-2vcpu.igvm").
std::string igvm_file_name(const std::string& platform, std::uint32_t vcpus);

}  // namespace mkguest
