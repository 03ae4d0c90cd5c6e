#include "builder/fs_tree.h"

#include "base/error.h"

namespace mkguest {

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
