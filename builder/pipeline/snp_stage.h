// The SNP measurement stage: the launch-digest matrix of `measurements.snp`,
// computed from the artifacts the build wrote, into measurements.snp of the
// manifest (docs/manifest.md).
#pragma once

#include "builder/measure/snp_policy.h"
#include "builder/pipeline/pipeline.h"
#include "firmware/sev_metadata.h"
#include "firmware/snp_measure.h"

namespace mkguest {

void stage_measure_snp(BuildContext& ctx);

// Whether measurements.snp binds the kernel, initrd and cmdline through the
// firmware's SEV hashes table (kernel_hashes auto, true or false); throws the
// recipe's error when it asks for what the firmware cannot do.
bool snp_uses_kernel_hashes(const BuildContext& ctx, const SevFirmware& fw);
// That table, from the kernel, initrd and cmdline artifacts; none without it.
// The same table for measurements.snp and outputs.igvm.
std::optional<SevHashes> snp_hashes_table(const BuildContext& ctx, const SevFirmware& fw);

// The recipe's policy fields as a typed SNP guest policy (its word:
// snp::snp_policy_word, builder/measure/snp_policy.h).
snp::SnpPolicy snp_policy_of(const recipe::SnpSpec& s);

}  // namespace mkguest
