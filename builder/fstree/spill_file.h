// A scratch file for archive contents (or the archive itself, read in place): loaders append each
// regular file's bytes as they stream the archive, and writers read them back by offset, so a tar
// is read once and its contents never sit in memory (peak RSS stays the size of the metadata,
// whatever the archive holds). The file is unlinked from the start (O_TMPFILE, or mkstemp + unlink)
// and disappears with the last FsContent that refers to it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

namespace mkguest {

class SpillFile {
 public:
  // Creates the file in `dir` (which must be writable).
  explicit SpillFile(const std::filesystem::path& dir);
  // Opens an existing file read-only (an uncompressed tar whose members are
  // read in place); append() must not be called on it.
  struct ReadOnly {};
  SpillFile(const std::filesystem::path& file, ReadOnly);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Appends bytes; returns nothing: the caller notes size() before appending.
  void append(std::span<const std::uint8_t> data);
  std::uint64_t size() const { return size_; }
  // Fills `out` with the bytes at [offset, offset + out.size()) (all below size()).
  void read(std::uint64_t offset, std::span<std::uint8_t> out) const;

 private:
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::filesystem::path dir_;
};

}  // namespace mkguest
