// The initrd stage: recipe `initrd` section -> FsTree -> [early uncompressed
// cpio] + compressed cpio, streamed into a sink.
#pragma once

#include <cstdint>

#include "base/sink.h"
#include "builder/fstree/tree.h"
#include "recipes/recipe.h"

namespace mkguest {

// The most archive contents an initrd build holds in memory (zip-bomb guard),
// across all of its archives.
inline constexpr std::uint64_t kMaxInitrdArchiveBytes = 2ull << 30;

// Builds the main tree. Layering order (later wins): archives, trees,
// directories, files, symlinks, devices. `archive_budget` bounds the bytes
// read from all archives together. A listed file that `inputs` holds (the
// build plan's mapped copy) is taken from there, not opened again.
FsTree initrd_tree(const recipe::InitrdSpec& spec, std::int64_t mtime,
                   std::uint64_t archive_budget = kMaxInitrdArchiveBytes,
                   const MappedInputs& inputs = {});
// The early (microcode) tree: files only.
FsTree initrd_early_tree(const recipe::InitrdSpec& spec, const MappedInputs& inputs = {});

struct InitrdStats {
  std::uint64_t entries = 0;
  std::uint64_t early_bytes = 0;
  std::uint64_t cpio_bytes = 0;  // main archive before compression
};

// Writes the whole initrd (early cpio first, if any) into `out` and finishes it.
InitrdStats write_initrd(const recipe::InitrdSpec& spec, std::int64_t mtime, ByteSink& out,
                         const MappedInputs& inputs = {});

Codec codec_of(recipe::Compression c);

}  // namespace mkguest
