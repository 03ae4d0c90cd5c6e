// OCI layer application with whiteouts (OCI image-spec layer.md). A layer is
// read once: its entries are collected, its whiteouts applied to the tree
// (the lower layers), then its other entries are put in archive order.
#include "builder/fstree/oci_layers.h"

#include "base/error.h"

namespace mkguest {
namespace {

struct Split {
  std::string dir;   // canonical parent ("" = root)
  std::string name;  // last component
};

Split split(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

std::string join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

}  // namespace

void apply_oci_layer(FsTree& tree, const std::filesystem::path& layer, const std::string& display,
                     const ArchiveLimits& limits, const ArchiveDrop& drop) {
  std::vector<FsEntry> entries;
  std::vector<std::string> removed, opaque;
  for_each_archive_entry(layer, display, "", limits, [&](FsEntry&& e) {
    Split s = split(e.path);
    if (s.name == kOpaqueWhiteout) {
      opaque.push_back(s.dir);
    } else if (s.name.starts_with(kWhiteoutPrefix)) {
      std::string target = s.name.substr(std::string_view(kWhiteoutPrefix).size());
      if (target.empty() || target == "." || target == "..") {
        throw file_error(display, "entry '" + e.path + "': malformed whiteout");
      }
      removed.push_back(join(s.dir, target));
    } else {
      entries.push_back(std::move(e));
    }
  });
  for (const auto& dir : opaque) {
    if (const FsEntry* d = tree.find(dir); d && d->type == FsType::kDir) tree.clear_below(dir);
  }
  for (const auto& path : removed) tree.remove(path);
  // Hard links whose target was whited out would dangle: drop them too.
  std::vector<std::string> dangling;
  for (const auto& [path, e] : tree.entries()) {
    if (e.type == FsType::kHardlink && !tree.find(e.link_target)) dangling.push_back(path);
  }
  for (const auto& path : dangling) tree.remove(path);

  for (FsEntry& e : entries) merge_archive_entry(tree, std::move(e), drop, display, "layers");
}

void apply_oci_layers(FsTree& tree, const std::vector<std::filesystem::path>& layers,
                      const ArchiveLimits& limits, const ArchiveDrop& drop) {
  for (const auto& layer : layers) apply_oci_layer(tree, layer, layer.string(), limits, drop);
}

}  // namespace mkguest
