// The IBM SE stage: `outputs.se` writes the SE image (builder/formats/se/image.h) of
// the recipe's kernel, the expanded cmdline and the built initrd, the bare
// header (hdr.bin), and the expected attestation values into the manifest's
// measurements.se (docs/se.md), with the loaders and host keys as inputs.
#pragma once

#include "builder/pipeline/pipeline.h"

namespace mkguest {

void stage_se(BuildContext& ctx);

}  // namespace mkguest
