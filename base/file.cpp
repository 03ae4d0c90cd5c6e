#include "base/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/digest.h"
#include "base/error.h"

namespace mkguest {

void io_fail(const std::filesystem::path& p, const char* what) {
  int e = errno;
  if (e == ENOENT || e == EISDIR || e == EACCES || e == ENOTDIR) {
    throw file_error(p.string(), std::string(what) + ": " + std::strerror(e));
  }
  throw InternalError(p.string() + ": " + what + ": " + std::strerror(e));
}

Fd::~Fd() {
  if (fd >= 0) ::close(fd);
}

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (f.fd < 0) io_fail(path, "cannot open");
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) io_fail(path, "cannot stat");
  if (!S_ISREG(st.st_mode)) {
    throw file_error(path.string(), "not a regular file");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ == 0) return;
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, f.fd, 0);
  if (p == MAP_FAILED) io_fail(path, "cannot map");
  ::madvise(p, size_, MADV_SEQUENTIAL);
  data_ = static_cast<const std::uint8_t*>(p);
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : path_(std::move(o.path_)), data_(o.data_), size_(o.size_) {
  o.data_ = nullptr;
  o.size_ = 0;
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<std::uint8_t*>(data_), size_);
}

void MappedFile::release(std::span<const std::uint8_t> range) const {
  if (range.empty() || !data_) return;
  const auto base = reinterpret_cast<std::uintptr_t>(data_);
  const auto from = reinterpret_cast<std::uintptr_t>(range.data());
  if (from < base || from - base > size_ || range.size() > size_ - (from - base)) return;
  const std::uintptr_t page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const std::uintptr_t first = (from + page - 1) & ~(page - 1);
  const std::uintptr_t last = (from + range.size()) & ~(page - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  MappedFile m(path);
  return {m.bytes().begin(), m.bytes().end()};
}

std::vector<std::uint8_t> digest_file(HashAlg alg, const std::filesystem::path& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (f.fd < 0) io_fail(path, "cannot open");
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    throw file_error(path.string(), "not a regular file");
  }
  ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Hasher h(alg);
  std::vector<std::uint8_t> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(f.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_fail(path, "cannot read");
    if (n == 0) break;
    h.update({buf.data(), static_cast<std::size_t>(n)});
  }
  return h.finish();
}

std::string read_text_file(const std::filesystem::path& path) {
  MappedFile m(path);
  return {reinterpret_cast<const char*>(m.bytes().data()), m.size()};
}

void write_file(const std::filesystem::path& path, std::span<const std::uint8_t> data) {
  // O_NOFOLLOW: never through a symlink; O_NONBLOCK: a FIFO does not hang the
  // open; the fstat refuses a device, FIFO or socket before anything is
  // truncated or chmodded. O_TRUNC is applied only once the entry is known to
  // be a regular file.
  Fd f{::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644)};
  if (f.fd < 0 && errno == ELOOP)
    throw file_error(path.string(), "is a symlink: refusing to write through it");
  if (f.fd < 0 && (errno == ENXIO || errno == EWOULDBLOCK))
    throw file_error(path.string(), "is not a regular file: refusing to write to it");
  if (f.fd < 0) io_fail(path, "cannot create");
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) io_fail(path, "cannot stat");
  if (!S_ISREG(st.st_mode))
    throw file_error(path.string(), "is not a regular file: refusing to write to it");
  if (::ftruncate(f.fd, 0) != 0) io_fail(path, "cannot truncate");
  if (::fchmod(f.fd, 0644) != 0) io_fail(path, "cannot chmod");
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(f.fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      io_fail(path, "cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(f.fd) != 0) {
    f.fd = -1;
    io_fail(path, "cannot close");
  }
  f.fd = -1;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  write_file(path, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()),
                                                 text.size()));
}

}  // namespace mkguest
