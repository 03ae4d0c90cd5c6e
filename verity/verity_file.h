// The file edge of verity: data read from a file with pread (bounded memory,
// no mapping, so the page cache is not charged to the process), the hash
// output written from empty, and verification through libcryptsetup in user
// space (crypt_activate_by_volume_key with no device name: no root, no
// device-mapper). The pure core (geometry, tree, superblock, cmdline) never
// touches files; the CLI and the pipeline call these.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "verity/tree.h"

namespace mkguest::verity {

// A regular file read with pread; safe to read from several threads.
class FileSource : public DataSource {
 public:
  explicit FileSource(const std::filesystem::path& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  std::uint64_t size() const override { return size_; }
  void read(std::uint64_t offset, std::span<std::uint8_t> out) const override;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Size of a regular file (InputError naming the path if it is missing).
std::uint64_t file_size(const std::filesystem::path& path);

// Extends `path` with zeros to a multiple of `block_size`; returns the new size.
std::uint64_t pad_file(const std::filesystem::path& path, std::uint32_t block_size);

// Builds the tree over `data` and writes the hash output to `hash`. A separate
// hash file is created or truncated to zero first; when `hash` is the data file
// itself (appended hash area), the file is truncated to the hash area's start,
// which must not overlap the N data blocks. The hash output ends at
// geometry.output_size.
VerityTree format_files(const std::filesystem::path& data, const std::filesystem::path& hash,
                        const VerityGeometry& geometry, const TreeOptions& options = {});

struct VerifyResult {
  bool ok = false;
  std::string log;  // libcryptsetup's messages
  // Byte offset libcryptsetup names ("Verification failed at position N"),
  // in the data file for the leaf level, in the hash file above it.
  std::optional<std::uint64_t> position;
  // mkguest's own diagnosis of the first bad block, e.g. "data block 700
  // (byte offset 2867200)", from recomputing the tree; empty when ok.
  std::string first_bad;
};

// Verifies `data` + `hash` against `root_hash` through libcryptsetup. With
// params.superblock the parameters come from the superblock at
// params.hash_offset (other fields are ignored), else all of params are used.
VerifyResult verify_files(const std::filesystem::path& data, const std::filesystem::path& hash,
                          const VerityParams& params, std::span<const std::uint8_t> root_hash);

// Reads and strictly parses the superblock at `offset` of a hash file.
VerityParams read_superblock(const std::filesystem::path& hash, std::uint64_t offset);

}  // namespace mkguest::verity
