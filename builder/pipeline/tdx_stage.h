// The TDX measurement stage: `measurements.tdx` predicted from the artifacts
// the build wrote (the UKI when there is one, else the kernel, initrd and
// cmdline of a direct boot) into measurements.tdx of the manifest
// (docs/tdx.md): the prediction's JSON (builder/measure/tdx_json.h) plus the
// firmware, the boot path and the RAM size.
#pragma once

#include "builder/pipeline/pipeline.h"

namespace mkguest {

void stage_measure_tdx(BuildContext& ctx);

}  // namespace mkguest
