// The SNP measurement stage: the launch-digest matrix of `measurements.snp`,
// computed from the artifacts the build wrote, into measurements.snp of the
// manifest (docs/manifest.md).
#pragma once

#include "builder/measure/snp_policy.h"
#include "builder/pipeline/pipeline.h"

namespace mkguest {

void stage_measure_snp(BuildContext& ctx);

// The recipe's policy fields as a typed SNP guest policy (its word:
// snp::snp_policy_word, builder/measure/snp_policy.h).
snp::SnpPolicy snp_policy_of(const recipe::SnpSpec& s);

}  // namespace mkguest
