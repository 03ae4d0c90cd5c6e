// A rootfs image from its sources: directories and tar archives applied in
// order as OCI layers (builder/fstree/oci_layers.h), written as uncompressed EROFS
// (builder/formats/erofs/writer.h). The one call the CLI and the build pipeline make.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "builder/formats/erofs/writer.h"
#include "builder/fstree/load.h"
#include "builder/fstree/tree.h"
#include "recipes/recipe.h"

namespace mkguest {

// Contents wait on disk (in place or in a scratch file), not in memory: up to
// 64 GiB per archive.
inline ArchiveLimits rootfs_archive_limits() {
  ArchiveLimits l;
  l.max_total_size = 64ull << 30;
  return l;
}

struct RootfsSource {
  // Directories or archives, lowest first. A directory contributes its names,
  // contents, link targets and permission bits, owned by root:root; an
  // archive contributes its headers (owners, modes, devices, xattrs).
  std::vector<std::filesystem::path> layers;
  // `rootfs.files`: applied in order on top of the layers. Each replaces what
  // is at its path (a directory overlay over a directory keeps its contents;
  // hard links to a replaced file keep the old file).
  std::vector<recipe::RootfsFile> files;
  ArchiveLimits limits = rootfs_archive_limits();
  std::int64_t source_date = 0;  // mtime given to directory and overlay entries
  // Files the caller already mapped (the build plan's inputs): an overlay
  // file found there is not opened again.
  MappedInputs inputs;
};

FsTree load_rootfs_source(const RootfsSource& src);

// Applies one overlay entry to `tree` (see RootfsSource::files).
void apply_rootfs_file(FsTree& tree, const recipe::RootfsFile& f, std::int64_t mtime,
                       const MappedInputs& inputs = {});

// A digest of the tree's paths, types, modes, owners, devices, link targets,
// xattrs and sizes: the default UUID seed (cheap; contents are not read).
std::string tree_seed(const FsTree& tree);

// Loads `src`, writes the image to `out` (not atomically: the pipeline writes
// into its staging directory). The UUID comes from `seed`, or from
// tree_seed() when `seed` is empty.
ErofsStats build_erofs_image(const RootfsSource& src, const std::filesystem::path& out,
                             std::string_view seed);

}  // namespace mkguest
