// The rootfs stage of the build pipeline: the root filesystem image
// (`rootfs.format: raw`: the user's image, as it is) and its dm-verity tree
// (`rootfs.verity`), written in the chosen layout, with the ${verity.*}
// cmdline variables and the manifest's "verity" section (docs/verity.md).
#pragma once

#include "builder/pipeline.h"

namespace mkguest {

// Writes the rootfs artifacts into the staging directory:
//   layout separate:    rootfs.img (role rootfs) + rootfs.verity (role rootfs-verity)
//   layout appended:    rootfs.img = data, then the hash area at the next hash block
//   layout partitioned: rootfs.disk (role disk): p1 data, p2 hash (GPT or MBR)
// Without `verity`, only rootfs.img.
void stage_rootfs(BuildContext& ctx);

}  // namespace mkguest
