// OCI image layer application (OCI image-spec layer.md, "Whiteouts"): each
// layer tarball (any compression libarchive reads) is applied in order on top
// of an FsTree. A `.wh.<name>` entry removes <name> (and what is below it)
// from the lower layers; `.wh..wh..opq` in a directory removes everything the
// lower layers put below that directory. Whiteouts apply to lower layers only,
// whatever their position in the layer, and never appear in the result.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/fstree/load.h"
#include "builder/fstree/tree.h"

namespace mkguest {

inline constexpr const char* kWhiteoutPrefix = ".wh.";
inline constexpr const char* kOpaqueWhiteout = ".wh..wh..opq";

// Applies one layer. Entries replace lower entries at the same path (a
// directory over a directory keeps what is below it), as load_archive does.
void apply_oci_layer(FsTree& tree, const std::filesystem::path& layer, const std::string& display,
                     const ArchiveLimits& limits = {}, const ArchiveDrop& drop = {});

// Applies `layers` in order (the first is the lowest).
void apply_oci_layers(FsTree& tree, const std::vector<std::filesystem::path>& layers,
                      const ArchiveLimits& limits = {}, const ArchiveDrop& drop = {});

}  // namespace mkguest
