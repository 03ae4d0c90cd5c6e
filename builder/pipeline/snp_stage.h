// The SNP measurement stage: the launch-digest matrix of `measurements.snp`,
// computed from the artifacts the build wrote, into measurements.snp of the
// manifest (docs/manifest.md).
#pragma once

#include "builder/pipeline/pipeline.h"

namespace mkguest {

void stage_measure_snp(BuildContext& ctx);

// The 64-bit SNP guest policy (SNP ABI, SNP_LAUNCH_START) for the recipe's
// policy fields; bit 17 is reserved and must be 1.
std::uint64_t snp_policy_value(const recipe::SnpSpec& s);

}  // namespace mkguest
