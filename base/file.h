// The I/O edge used by the pipeline and the CLI: read-only mappings of inputs
// and whole-file helpers. Parsers and measurement code never include this;
// they take spans or streaming sources.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"

namespace mkguest {

// An owned file descriptor, closed on destruction (the file edges' handle).
struct Fd {
  int fd = -1;
  ~Fd();
};

// A failed system call on `p` (errno): InputError naming the file when it is
// missing or not accessible, else InternalError.
[[noreturn]] void io_fail(const std::filesystem::path& p, const char* what);

// A read-only, private mapping of a regular file (empty files map to an empty
// span). Errors name the path.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  // Drops the whole pages of `range` from this process's mapping (they stay
  // in the page cache and fault back in when read again): streaming a large
  // file keeps the resident set small. Ranges outside the mapping are ignored.
  void release(std::span<const std::uint8_t> range) const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

std::vector<std::uint8_t> read_file(const std::filesystem::path& path);

// The digest of a file, read in 1 MiB chunks: memory stays constant however
// large the file is.
std::vector<std::uint8_t> digest_file(HashAlg alg, const std::filesystem::path& path);
std::string read_text_file(const std::filesystem::path& path);

// Writes the whole buffer, creating or truncating `path` with mode 0644
// (independent of the umask, so outputs are the same everywhere).
void write_file(const std::filesystem::path& path, std::span<const std::uint8_t> data);
void write_file(const std::filesystem::path& path, const std::string& text);

}  // namespace mkguest
