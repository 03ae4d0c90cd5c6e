// Paths inside an image (initrd, rootfs): canonical, relative, never escaping.
#pragma once

#include <optional>
#include <string>

namespace mkguest {

// Canonicalises a path from a recipe or archive: strips leading '/', './',
// repeated and trailing '/'. The root is "". Returns nullopt for paths that
// escape ('..'), contain NUL, or have a segment longer than 255 bytes.
std::optional<std::string> canonical_fs_path(const std::string& path);

// "a" + "b/c" -> "a/b/c"; "" + "x" -> "x".
std::string join_fs_path(const std::string& dir, const std::string& rel);

}  // namespace mkguest
