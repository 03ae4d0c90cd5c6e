// Single-file outputs written atomically and safely: the bytes go to a
// temporary file created beside the target (".<name>.mkguest-<pid>", opened
// with O_CREAT|O_EXCL|O_NOFOLLOW, mode set with fchmod on that descriptor),
// are fsynced, and the temporary is renamed over the target. Nothing is ever
// written or chmodded through the target path itself, so a symlink or a
// device node at the target is never followed.
//
// The target must be absent or a regular file (checked with lstat, before
// writing and again before the rename); anything else (a symlink, a device
// node, a FIFO, a socket) is refused unless `force` is set, in which case the
// entry is replaced by the rename (a directory is always refused).
// Temporaries left by processes that died (SIGKILL, power loss) are removed
// when the next one is created for the same target.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "base/sink.h"

namespace mkguest {

// Throws an InputError naming `target` unless it is absent or a regular file
// (with `force`: unless it is absent or not a directory).
void check_output_target(const std::filesystem::path& target, bool force);

// Removes ".<name>.mkguest-<pid>[-...|.…]" entries beside `target` whose
// process no longer exists.
void remove_stale_temporaries(const std::filesystem::path& target);

class AtomicFile : public ByteSink {
 public:
  AtomicFile(const std::filesystem::path& target, bool force, mode_t mode = 0644);
  ~AtomicFile() override;  // removes the temporary unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::span<const std::uint8_t> data) override;
  void finish() override {}  // writes are unbuffered; commit() makes them durable
  // Empties the temporary, to write it again from the start.
  void truncate();
  // The temporary (to read back what was written before commit()).
  const std::filesystem::path& temp_path() const { return temp_; }
  std::uint64_t size() const { return size_; }
  // fsync, fchmod, re-check the target, rename over it, fsync the directory.
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool force_;
  mode_t mode_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  bool committed_ = false;
};

// Writes `data` to `target` through an AtomicFile.
void write_file_atomic(const std::filesystem::path& target, std::span<const std::uint8_t> data,
                       bool force, mode_t mode = 0644);
void write_file_atomic(const std::filesystem::path& target, const std::string& text, bool force,
                       mode_t mode = 0644);

}  // namespace mkguest
