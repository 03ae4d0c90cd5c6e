// Unlinked scratch file for archive contents (see builder/fstree/spill_file.h).
#include "builder/fstree/spill_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/error.h"

namespace mkguest {

namespace {
[[noreturn]] void fail(const std::filesystem::path& dir, const char* what) {
  throw InternalError(dir.string() + ": scratch file for archive contents: " + what + ": " +
                      std::strerror(errno));
}
}  // namespace

SpillFile::SpillFile(const std::filesystem::path& dir) : dir_(dir) {
  fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd_ < 0) {  // file systems without O_TMPFILE
    std::string tmpl = (dir / ".mkguest-spill-XXXXXX").string();
    fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd_ < 0) fail(dir, "cannot create");
    ::unlink(tmpl.c_str());
  }
}

SpillFile::SpillFile(const std::filesystem::path& file, ReadOnly) : dir_(file) {
  fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd_ < 0 || ::fstat(fd_, &st) != 0) throw file_error(file.string(), std::strerror(errno));
  size_ = static_cast<std::uint64_t>(st.st_size);
}

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
}

void SpillFile::append(std::span<const std::uint8_t> data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(size_ + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(dir_, "cannot write");
    done += static_cast<std::size_t>(n);
  }
  size_ += data.size();
}

void SpillFile::read(std::uint64_t offset, std::span<std::uint8_t> out) const {
  if (offset > size_ || out.size() > size_ - offset) {
    throw InternalError("scratch file: read past its end");
  }
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(dir_, "cannot read");
    if (n == 0) throw file_error(dir_.string(), "file shrank while being read");
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace mkguest
