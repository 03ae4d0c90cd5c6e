// Reproducible cpio "newc" archives (the initramfs format, kernel
// Documentation/driver-api/early-userspace/buffer-format.rst), written with
// libarchive from an FsTree.
//
// Layout: "." first, then every entry in bytewise path order; 110-byte ASCII
// headers (magic 070701), names and data padded to 4; TRAILER!!! last, no
// block padding. Inode numbers are assigned 1, 2, 3... in that order (hard
// links share their leader's number; all but the last link have size 0 and
// the last carries the data, as GNU cpio does); device numbers are 0; every
// mtime is the source date; nlink is 2 + subdirectories for directories.
#pragma once

#include <cstdint>

#include "base/sink.h"
#include "builder/fstree/tree.h"

namespace mkguest {

struct CpioStats {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;  // uncompressed archive size
};

// Writes `tree` as one newc archive into `out` (not finished: the caller
// finishes the sink chain). Sockets are rejected (the kernel cannot create
// them from an initramfs); xattrs are not representable and are rejected.
CpioStats write_cpio(const FsTree& tree, std::int64_t mtime, ByteSink& out);

}  // namespace mkguest
