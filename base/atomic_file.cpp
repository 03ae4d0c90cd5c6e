#include "base/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/error.h"

namespace mkguest {

namespace fs = std::filesystem;

namespace {

fs::path parent_of(const fs::path& p) {
  return p.parent_path().empty() ? fs::path(".") : p.parent_path();
}

std::string prefix_for(const fs::path& target) {
  return "." + target.filename().string() + ".mkguest-";
}

const char* kind_of(mode_t m) {
  if (S_ISLNK(m)) return "a symbolic link";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISDIR(m)) return "a directory";
  return "not a regular file";
}

[[noreturn]] void fail(const fs::path& p, const std::string& what) {
  throw InternalError(p.string() + ": " + what + ": " + std::strerror(errno));
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void check_output_target(const fs::path& target, bool force) {
  if (target.filename().empty() || target.filename() == "." || target.filename() == "..")
    throw file_error(target.string(), "an output file needs a file name");
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw file_error(target.string(),
                     std::string("cannot check the output: ") + std::strerror(errno));
  }
  if (S_ISREG(st.st_mode)) return;
  if (S_ISDIR(st.st_mode)) throw file_error(target.string(), "the output is a directory");
  if (force) return;
  throw file_error(target.string(), std::string("the output exists and is ") + kind_of(st.st_mode) +
                                        ": refusing to replace it (--force replaces the entry)");
}

void remove_stale_temporaries(const fs::path& target) {
  const std::string prefix = prefix_for(target);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parent_of(target), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const std::string pid_text = rest.substr(0, rest.find_first_of("-."));
    char* end = nullptr;
    const long pid = std::strtol(pid_text.c_str(), &end, 10);
    if (pid_text.empty() || *end != '\0' || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) continue;  // alive
    std::error_code rm;
    fs::remove_all(e.path(), rm);  // never follows a symlink
  }
}

AtomicFile::AtomicFile(const fs::path& target, bool force, mode_t mode)
    : target_(target), force_(force), mode_(mode) {
  check_output_target(target_, force_);
  remove_stale_temporaries(target_);
  temp_ = parent_of(target_) / (prefix_for(target_) + std::to_string(::getpid()));
  // Our own leftover (an earlier output of this process with the same name).
  if (::unlink(temp_.c_str()) != 0 && errno != ENOENT) fail(temp_, "cannot remove");
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    if (errno == ENOENT || errno == EACCES || errno == ENOTDIR || errno == EROFS)
      throw file_error(target_.string(),
                       std::string("cannot create the output: ") + std::strerror(errno));
    fail(temp_, "cannot create");
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFile::write(std::span<const std::uint8_t> data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(temp_, "cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
  size_ += data.size();
}

void AtomicFile::truncate() {
  if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) fail(temp_, "cannot truncate");
  size_ = 0;
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) fail(temp_, "cannot sync");
  if (::fchmod(fd_, mode_) != 0) fail(temp_, "cannot chmod");
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(temp_, "cannot close");
  check_output_target(target_, force_);  // it may have changed while we wrote
  if (::rename(temp_.c_str(), target_.c_str()) != 0) fail(target_, "cannot rename into place");
  committed_ = true;
  fsync_dir(parent_of(target_));
}

void write_file_atomic(const fs::path& target, std::span<const std::uint8_t> data, bool force,
                       mode_t mode) {
  AtomicFile f(target, force, mode);
  f.write(data);
  f.commit();
}

void write_file_atomic(const fs::path& target, const std::string& text, bool force, mode_t mode) {
  write_file_atomic(target,
                    std::span<const std::uint8_t>(
                        reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                    force, mode);
}

}  // namespace mkguest
