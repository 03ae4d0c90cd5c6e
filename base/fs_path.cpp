#include "base/fs_path.h"

namespace mkguest {

std::optional<std::string> canonical_fs_path(const std::string& path) {
  std::string out;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string seg = path.substr(i, j - i);
    i = j + 1;
    if (seg.empty() || seg == ".") continue;
    if (seg == ".." || seg.find('\0') != std::string::npos || seg.size() > 255) {
      return std::nullopt;
    }
    if (!out.empty()) out += '/';
    out += seg;
  }
  return out;
}

std::string join_fs_path(const std::string& dir, const std::string& rel) {
  if (dir.empty()) return rel;
  if (rel.empty()) return dir;
  return dir + "/" + rel;
}

}  // namespace mkguest
