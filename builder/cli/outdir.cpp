#include "builder/cli/outdir.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/error.h"

namespace mkguest::cli {

namespace fs = std::filesystem;

namespace {
std::string prefix_for(const fs::path& outdir) {
  return "." + outdir.filename().string() + ".mkguest-";
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void fsync_tree(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    int fd = ::open(e.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
  fsync_dir(dir);
}
}  // namespace

void remove_stale_staging(const fs::path& outdir) {
  fs::path parent = outdir.parent_path().empty() ? fs::path(".") : outdir.parent_path();
  std::string prefix = prefix_for(outdir);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    std::string rest = name.substr(prefix.size());
    auto dash = rest.find('-');  // ".<name>.mkguest-<pid>" or "...-<pid>-old"
    std::string pid_text = rest.substr(0, dash);
    char* end = nullptr;
    long pid = std::strtol(pid_text.c_str(), &end, 10);
    if (pid_text.empty() || *end != '\0' || pid <= 0) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) continue;  // alive
    fs::remove_all(e.path(), ec);
  }
}

StagedDir::StagedDir(const fs::path& outdir) : outdir_(outdir) {
  if (outdir_.filename().empty()) outdir_ = outdir_.parent_path();
  std::error_code ec;
  fs::path parent = outdir_.parent_path().empty() ? fs::path(".") : outdir_.parent_path();
  fs::create_directories(parent, ec);
  if (!fs::is_directory(parent, ec)) {
    throw UsageError("cannot create the output directory's parent '" + parent.string() + "'");
  }
  // The output directory is replaced by a rename, never written through: a
  // symlink there would be swapped away (and its target left stale), so it is
  // refused and named.
  if (fs::is_symlink(fs::symlink_status(outdir_, ec))) {
    throw file_error(outdir_.string(),
                     "the output directory is a symlink: refusing to replace it (give the "
                     "directory it points to)");
  }
  if (fs::exists(outdir_, ec)) {
    if (!fs::is_directory(outdir_, ec)) {
      throw UsageError("'" + outdir_.string() + "' exists and is not a directory");
    }
    if (!fs::is_empty(outdir_, ec) && !fs::exists(outdir_ / "manifest.json", ec)) {
      throw UsageError("'" + outdir_.string() +
                       "' is not empty and holds no manifest.json: refusing to replace it");
    }
  }
  remove_stale_staging(outdir_);
  staging_ = parent / (prefix_for(outdir_) + std::to_string(::getpid()));
  fs::remove_all(staging_, ec);
  if (::mkdir(staging_.c_str(), 0755) != 0 || ::chmod(staging_.c_str(), 0755) != 0) {
    throw InternalError("cannot create the output directory '" + outdir_.string() +
                        "' (staging in '" + staging_.string() + "'): " + std::strerror(errno));
  }
}

StagedDir::~StagedDir() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

void StagedDir::commit() {
  fsync_tree(staging_);
  std::error_code ec;
  if (fs::exists(outdir_, ec)) {
    if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, outdir_.c_str(), RENAME_EXCHANGE) != 0) {
      throw InternalError("cannot swap '" + staging_.string() +
                          "' into place: " + std::strerror(errno));
    }
    committed_ = true;
    fs::remove_all(staging_, ec);  // now holds the previous output
  } else {
    if (::rename(staging_.c_str(), outdir_.c_str()) != 0) {
      throw InternalError("cannot rename '" + staging_.string() +
                          "' into place: " + std::strerror(errno));
    }
    committed_ = true;
  }
  fsync_dir(outdir_.parent_path().empty() ? fs::path(".") : outdir_.parent_path());
}

}  // namespace mkguest::cli
