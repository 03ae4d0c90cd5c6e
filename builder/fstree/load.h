// Loaders that fill an FsTree: host directory trees and archives (any format
// and compression libarchive reads: tar, pax, cpio, gzip, zstd, xz...).
// Host trees contribute names, types, contents and link targets only; owners
// come from the caller and modes are normalised unless asked otherwise, so the
// host's umask, users and clocks never reach an output. Archives contribute
// their header metadata (owners, modes, devices, xattrs), which is content.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>

#include "builder/fstree/tree.h"

namespace mkguest {

struct HostTreeOptions {
  std::string dst;  // canonical destination prefix ("" = root)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  bool preserve_modes = false;  // false: dirs 0755, files 0755 if executable else 0644
  std::int64_t mtime = 0;       // every entry gets this mtime
};

// Adds the tree below `src` (not `src` itself unless dst is new) to `tree`.
// Hard links within the tree are kept (the first path in sorted order holds
// the data). Errors name `display` (the path as the recipe wrote it).
void load_host_tree(FsTree& tree, const std::filesystem::path& src, const std::string& display,
                    const HostTreeOptions& opt);

struct ArchiveLimits {
  std::uint64_t max_entries = 1'000'000;
  std::uint64_t max_file_size = 8ull << 30;   // one entry
  std::uint64_t max_total_size = 4ull << 30;  // all contents of one archive
  // Where file contents go while the archive is read: empty keeps them in
  // memory (small archives, fuzzing); a directory gets an unlinked scratch
  // file (builder/fstree/spill_file.h), so memory stays bounded by the metadata.
  std::filesystem::path spill_dir;
};

// Calls `fn` for each entry of the archive in archive order, with the path
// canonicalised and prefixed by `dst`. Hard links carry the canonical target
// in link_target. Errors name `display` and the entry.
void for_each_archive_entry(const std::filesystem::path& archive, const std::string& display,
                            const std::string& dst, const ArchiveLimits& limits,
                            const std::function<void(FsEntry&&)>& fn);

// The same for an archive held in memory.
void for_each_archive_entry(std::span<const std::uint8_t> data, const std::string& display,
                            const std::string& dst, const ArchiveLimits& limits,
                            const std::function<void(FsEntry&&)>& fn);

// What a build drops from archive entries instead of keeping it.
struct ArchiveDrop {
  bool devices = false;  // char and block device nodes
  bool setid = false;    // setuid and setgid bits
  bool xattrs = false;   // extended attributes
};

// Adds one archive entry to `tree` as load_archive does: applies `drop`,
// checks hard links ("... not a regular file in the <where>"), and keeps the
// contents of a directory listed again.
void merge_archive_entry(FsTree& tree, FsEntry&& e, const ArchiveDrop& drop,
                         const std::string& display, const std::string& where);

// for_each_archive_entry + merge_archive_entry, with hard links checked to point at an
// existing regular file. Later entries replace earlier ones at the same path
// (tar semantics); a directory listed again keeps its contents.
void load_archive(FsTree& tree, const std::filesystem::path& archive, const std::string& display,
                  const std::string& dst, const ArchiveLimits& limits = {},
                  const ArchiveDrop& drop = {});

}  // namespace mkguest
