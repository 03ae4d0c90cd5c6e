// The layout plan of an uncompressed EROFS image (builder/formats/erofs/format.h):
// one Node per inode in bytewise path order, with its inode form, xattr body,
// data layout, metadata slot (nid) and first data block. Internal to the
// writer; exposed for its tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/digest.h"
#include "builder/fstree/tree.h"

namespace mkguest::erofs {

struct Dirent {
  std::string name;
  std::size_t node = 0;  // index into ErofsPlan::nodes
  std::uint8_t file_type = 0;
};

struct Node {
  const FsEntry* entry = nullptr;  // the entry holding metadata and data
  std::uint32_t mode = 0;          // type bits | 07777
  std::uint32_t nlink = 1;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // clamped
  bool extended = false;
  std::uint16_t layout = 0;
  Bytes xattr_body;                          // inline xattr body (empty: none)
  std::uint32_t rdev = 0;                    // encoded, devices only
  std::vector<Dirent> dirents;               // directories: sorted, with "." and ".."
  std::vector<std::size_t> dir_block_start;  // index of the first dirent of each block
  std::uint64_t pos = 0;                     // byte offset of the inode
  std::uint32_t blkaddr = 0;                 // first data block (0 if none)
  std::uint64_t full_blocks = 0;             // whole blocks in the data area
  std::uint32_t ino = 0;

  std::size_t inode_size() const;
  std::size_t tail_size() const;  // inline tail bytes (0 unless kLayoutFlatInline)
  std::uint64_t nid() const { return pos / 32; }
};

struct ErofsPlan {
  std::vector<Node> nodes;       // nodes[0] is the root directory
  std::uint64_t meta_end = 0;    // end of the last inode record
  std::uint64_t data_start = 0;  // first data block
  std::uint64_t blocks = 0;      // total blocks
};

// Builds the plan. `build_time` clamps mtimes; an inode is extended when a
// field does not fit the compact form or its mtime differs from build_time.
ErofsPlan plan_erofs(const FsTree& tree, std::int64_t build_time);

// The bytes of directory block `b` of `n` (full block size, or the used
// bytes for the last block).
Bytes dir_block(const ErofsPlan& plan, const Node& n, std::size_t b);

}  // namespace mkguest::erofs
