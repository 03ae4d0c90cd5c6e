// The file-system tree model shared by the initrd (cpio) and rootfs (EROFS)
// writers. Loaders fill it from recipe items, host directories, archives and
// OCI layers; writers walk it in sorted path order. Nothing here reads host
// metadata that would make output depend on the host (umask, owner, time):
// loaders decide each field explicitly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/fs_path.h"
#include "builder/fstree/spill_file.h"

namespace mkguest {

enum class FsType { kFile, kDir, kSymlink, kHardlink, kCharDev, kBlockDev, kFifo, kSocket };

const char* fs_type_name(FsType t);

// Where a regular file's bytes come from. Exactly one of memory, spill,
// mapped and host_path is set.
struct FsContent {
  std::shared_ptr<const Bytes> memory;     // bytes held in memory
  std::shared_ptr<const SpillFile> spill;  // bytes at spill_offset in a scratch file
  std::uint64_t spill_offset = 0;
  // Bytes the caller mapped (and hashed) before, which outlive the write: the
  // build plan's input files, so a file is read once (is_mapped: even empty).
  std::span<const std::uint8_t> mapped;
  bool is_mapped = false;
  std::filesystem::path host_path;  // read at write time (streamed)
  std::uint64_t size = 0;
};

// The bytes of a host file the caller already mapped, or nullopt: lets a
// loader use the build plan's copy of an input instead of opening it again.
using MappedInputs =
    std::function<std::optional<std::span<const std::uint8_t>>(const std::filesystem::path&)>;

// `e`'s content taken from `inputs` when it holds e.content.host_path.
void use_mapped_input(FsContent& c, const MappedInputs& inputs);

// Reads a regular file's bytes wherever they are. A host file that shrank
// since it was listed is an error.
class ContentReader {
 public:
  explicit ContentReader(const FsContent& c, const std::string& path);
  ~ContentReader();
  ContentReader(const ContentReader&) = delete;
  ContentReader& operator=(const ContentReader&) = delete;
  // Fills `out` with the bytes at [off, off + out.size()), within c.size.
  void read(std::uint64_t off, std::span<std::uint8_t> out);

 private:
  const FsContent& c_;
  int fd_ = -1;
};

struct FsEntry {
  // Canonical path: relative, no leading '/', no '.', '..' or empty segments;
  // the root directory is "".
  std::string path;
  FsType type = FsType::kFile;
  std::uint32_t mode = 0644;  // permission bits incl. setuid/setgid/sticky (07777)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime = 0;  // seconds; writers clamp to the source date
  std::uint32_t rdev_major = 0;
  std::uint32_t rdev_minor = 0;
  std::string link_target;              // symlink target, or hard-link target path (canonical)
  FsContent content;                    // kFile only
  std::map<std::string, Bytes> xattrs;  // name -> value, sorted by name
  std::string origin;                   // where the entry came from, for error messages
};

// The kernel's limits: a symlink target is 1..PATH_MAX-1 bytes; an image path
// is at most PATH_MAX-1 bytes.
inline constexpr std::size_t kMaxSymlinkTarget = 4095;
inline constexpr std::size_t kMaxImagePath = 4095;

// A tree of entries keyed by canonical path, iterated in bytewise order.
class FsTree {
 public:
  // Adds or replaces an entry; creates missing parent directories (0755,
  // root-owned, mtime 0) and fails if a parent exists and is not a directory,
  // or if a symlink target is empty or longer than kMaxSymlinkTarget.
  void put(FsEntry e);
  // Removes a path and everything below it (for whiteouts and overrides).
  void remove(const std::string& path);
  // Removes everything below a directory but keeps the directory itself
  // (opaque whiteouts).
  void clear_below(const std::string& path);
  const FsEntry* find(const std::string& path) const;
  FsEntry* find(const std::string& path);
  const std::map<std::string, FsEntry>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  // Sets every mtime above `epoch` to `epoch`.
  void clamp_mtimes(std::int64_t epoch);

 private:
  void ensure_parents(const std::string& path, const std::string& origin);
  std::map<std::string, FsEntry> entries_;
};

}  // namespace mkguest
