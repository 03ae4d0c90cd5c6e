// A strict reader of uncompressed EROFS images (builder/formats/erofs/format.h), used
// by tests and the fuzz target to check what the writer produced: it walks
// the directory tree from the root and lists every path with its inode's
// metadata, link target, xattrs and content digest. Everything is read
// through ByteReader; anything malformed (bad magic or checksum, features or
// layouts it does not know, out-of-range blocks, unsorted or duplicate
// names, directory cycles, type mismatches) is an InputError with an offset.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "builder/fstree/tree.h"

namespace mkguest {

struct ErofsListEntry {
  std::string path;             // canonical ("" = root)
  FsType type = FsType::kFile;  // never kHardlink: hard links share `nid`
  std::uint32_t mode = 0;       // permission bits incl. setuid/setgid/sticky
  std::uint32_t uid = 0, gid = 0;
  std::int64_t mtime = 0;
  std::uint32_t nlink = 0;
  std::uint64_t size = 0;
  std::uint32_t rdev_major = 0, rdev_minor = 0;
  std::string link_target;
  std::map<std::string, Bytes> xattrs;
  std::string sha256;  // hex digest of a regular file's contents
  std::uint64_t nid = 0;
  bool extended = false;
  bool inline_tail = false;
};

struct ErofsImage {
  std::array<std::uint8_t, 16> uuid{};
  std::int64_t build_time = 0;
  std::uint64_t blocks = 0;
  std::uint64_t inodes = 0;
  std::vector<ErofsListEntry> entries;  // sorted by path
};

ErofsImage read_erofs(std::span<const std::uint8_t> image, const std::string& source);

}  // namespace mkguest
