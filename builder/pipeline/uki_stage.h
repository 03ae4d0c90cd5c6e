// The UKI stage of the build: `outputs.uki` written from the recipe's
// kernel, the built initrd and the expanded cmdline (which carries the
// verity root hash), and the manifest's `uki` section: the stub, every
// section (name, offset, size, sha256) and the Authenticode digests.
#pragma once

#include "builder/pipeline/pipeline.h"

namespace mkguest {

void stage_uki(BuildContext& ctx);

}  // namespace mkguest
