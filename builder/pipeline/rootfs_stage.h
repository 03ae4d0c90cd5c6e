// The rootfs stage of the build pipeline: the root filesystem image
// (`rootfs.format: raw`: the user's image, as it is) and its dm-verity tree
// (`rootfs.verity`), written in the chosen layout, with the ${verity.*}
// cmdline variables and the manifest's "verity" section (docs/verity.md).
#pragma once

#include "builder/pipeline/pipeline.h"
#include "verity/tree.h"

namespace mkguest {

// Writes the rootfs artifacts into the staging directory:
//   layout separate:    rootfs.img (role rootfs) + rootfs.verity (role rootfs-verity)
//   layout appended:    rootfs.img = data, then the hash area at the next hash block
//   layout partitioned: rootfs.disk (role disk): p1 data, p2 hash (GPT or MBR)
// Without `verity`, only rootfs.img.
void stage_rootfs(BuildContext& ctx);

// The part after the image exists: writes the artifacts above for `image`
// (the raw source as the plan mapped it, or an image another stage wrote,
// e.g. outside the output set in the staging directory) following ctx.recipe.rootfs.verity,
// and sets the ${verity.*} variables and the manifest's "verity" section.
// `display` names the image in errors; `image_sha256`, if known, saves a pass.
void write_rootfs_artifacts(BuildContext& ctx, const verity::DataSource& image,
                            const std::string& display, const Bytes* image_sha256 = nullptr);

}  // namespace mkguest
