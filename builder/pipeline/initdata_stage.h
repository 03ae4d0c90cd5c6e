// The init-data stage (docs/kata.md): the recipe's `initdata` becomes the
// document the guest receives (initdata.toml: the file's own bytes, or the
// inline mapping rendered to TOML), Kata's annotation value
// (initdata.annotation) and the manifest's `initdata` section; once the
// measurement stages ran, bind_initdata() adds HOST_DATA to
// measurements.snp and MRCONFIGID to measurements.tdx.
#pragma once

#include "builder/pipeline/pipeline.h"

namespace mkguest {

void stage_initdata(BuildContext& ctx);
void bind_initdata(BuildContext& ctx);

}  // namespace mkguest
