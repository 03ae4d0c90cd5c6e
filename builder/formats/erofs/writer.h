// A native writer of uncompressed EROFS images (Linux fs/erofs/erofs_fs.h,
// the layout read by the kernel driver since 5.4 and checked by fsck.erofs).
// See builder/formats/erofs/format.h for the on-disk layout and docs/erofs.md for the
// layout choices and determinism rules.
//
// The image depends only on the FsTree's contents (paths, types, modes,
// owners, clamped mtimes, devices, link targets, xattrs, file bytes), the
// build time and the UUID: never on the order entries were added, the host,
// or the clock. Plan first (inode slots, block addresses), then emit: file
// bytes are streamed from FsContent (host files are read at write time).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "base/sink.h"
#include "builder/fstree/tree.h"

namespace mkguest {

struct ErofsOptions {
  std::int64_t build_time = 0;          // the source date; mtimes above it are clamped
  std::array<std::uint8_t, 16> uuid{};  // see erofs_uuid_from_seed
};

struct ErofsStats {
  std::uint64_t inodes = 0;
  std::uint64_t blocks = 0;  // image size / 4096
  std::uint64_t extended_inodes = 0;
  std::uint64_t inline_tails = 0;
};

// Writes the image to `out` (which is not finished). Throws InputError for
// trees EROFS cannot hold (unknown xattr prefixes, names over 255 bytes,
// dangling hard links, device numbers over 12:20 bits, > 2^32 blocks).
ErofsStats write_erofs(const FsTree& tree, const ErofsOptions& opt, ByteSink& out);

// A version-4-shaped UUID from the first 16 bytes of SHA-256("mkguest erofs
// uuid\0" + seed).
std::array<std::uint8_t, 16> erofs_uuid_from_seed(std::string_view seed);

// Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"; returns false if malformed.
bool parse_uuid(std::string_view text, std::array<std::uint8_t, 16>* out);

}  // namespace mkguest
