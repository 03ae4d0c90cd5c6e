#include "builder/fstree/tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace mkguest {

ContentReader::ContentReader(const FsContent& c, const std::string& path) : c_(c) {
  if (c.memory) {
    if (c.memory->size() != c.size) {
      throw InternalError("content size mismatch for '" + path + "'");
    }
  } else if (c.is_mapped) {
    if (c.mapped.size() != c.size) throw InternalError("content size mismatch for '" + path + "'");
  } else if (c.spill) {
    if (c.spill_offset > c.spill->size() || c.size > c.spill->size() - c.spill_offset) {
      throw InternalError("content of '" + path + "' lies outside its scratch file");
    }
  } else {
    // O_NONBLOCK: a FIFO put where a file was listed must not hang the build.
    fd_ = ::open(c.host_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) throw file_error(c.host_path.string(), std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      fd_ = -1;
      throw file_error(c.host_path.string(), "not a regular file");
    }
  }
}

ContentReader::~ContentReader() {
  if (fd_ >= 0) ::close(fd_);
}

void ContentReader::read(std::uint64_t off, std::span<std::uint8_t> out) {
  if (off > c_.size || out.size() > c_.size - off) {
    throw InternalError("content read past the file's size");
  }
  if (out.empty()) return;
  if (c_.memory) {
    std::memcpy(out.data(), c_.memory->data() + off, out.size());
    return;
  }
  if (c_.is_mapped) {
    std::memcpy(out.data(), c_.mapped.data() + off, out.size());
    return;
  }
  if (c_.spill) {
    c_.spill->read(c_.spill_offset + off, out);
    return;
  }
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t r = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(off + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw file_error(c_.host_path.string(), std::strerror(errno));
    if (r == 0) throw file_error(c_.host_path.string(), "file shrank while being read");
    done += static_cast<std::size_t>(r);
  }
}

void use_mapped_input(FsContent& c, const MappedInputs& inputs) {
  if (!inputs || c.host_path.empty()) return;
  if (auto bytes = inputs(c.host_path)) {
    c.mapped = *bytes;
    c.is_mapped = true;
    c.size = bytes->size();
    c.host_path.clear();
  }
}

const char* fs_type_name(FsType t) {
  switch (t) {
    case FsType::kFile:
      return "file";
    case FsType::kDir:
      return "directory";
    case FsType::kSymlink:
      return "symlink";
    case FsType::kHardlink:
      return "hardlink";
    case FsType::kCharDev:
      return "char device";
    case FsType::kBlockDev:
      return "block device";
    case FsType::kFifo:
      return "fifo";
    case FsType::kSocket:
      return "socket";
  }
  return "?";
}

namespace {
std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}
}  // namespace

void FsTree::ensure_parents(const std::string& path, const std::string& origin) {
  if (path.empty()) return;
  std::string parent = parent_of(path);
  for (;;) {
    auto it = entries_.find(parent);
    if (it != entries_.end()) {
      if (it->second.type != FsType::kDir) {
        throw InputError(origin, "",
                         "'/" + path + "' needs '/" + parent + "' to be a directory, but it is a " +
                             fs_type_name(it->second.type));
      }
      break;
    }
    FsEntry dir;
    dir.path = parent;
    dir.type = FsType::kDir;
    dir.mode = 0755;
    dir.origin = origin;
    entries_.emplace(parent, std::move(dir));
    if (parent.empty()) break;
    parent = parent_of(parent);
  }
}

void FsTree::put(FsEntry e) {
  if (e.type == FsType::kSymlink &&
      (e.link_target.empty() || e.link_target.size() > kMaxSymlinkTarget)) {
    throw InputError(e.origin, "",
                     "'/" + e.path + "': symlink target is empty or longer than " +
                         std::to_string(kMaxSymlinkTarget) + " bytes");
  }
  ensure_parents(e.path, e.origin);
  auto it = entries_.find(e.path);
  if (it != entries_.end()) {
    // Replacing a directory by a non-directory drops what was below it.
    if (it->second.type == FsType::kDir && e.type != FsType::kDir) remove(e.path);
  }
  entries_[e.path] = std::move(e);
}

void FsTree::remove(const std::string& path) {
  clear_below(path);
  entries_.erase(path);
}

void FsTree::clear_below(const std::string& path) {
  // Entries below "a" all start with "a/" and are contiguous in bytewise order.
  std::string prefix = path.empty() ? std::string() : path + "/";
  auto it = entries_.lower_bound(prefix);
  while (it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
    if (it->first.empty()) {
      ++it;  // the root itself stays
    } else {
      it = entries_.erase(it);
    }
  }
}

const FsEntry* FsTree::find(const std::string& path) const {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

FsEntry* FsTree::find(const std::string& path) {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

void FsTree::clamp_mtimes(std::int64_t epoch) {
  for (auto& [_, e] : entries_) {
    if (e.mtime > epoch) e.mtime = epoch;
  }
}

}  // namespace mkguest
