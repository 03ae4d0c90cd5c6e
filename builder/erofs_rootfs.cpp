// Rootfs sources to an EROFS image (see builder/erofs_rootfs.h).
#include "builder/erofs_rootfs.h"

#include "base/byte_writer.h"
#include "base/digest.h"
#include "base/error.h"
#include "builder/oci_layers.h"
#include "builder/sink.h"

namespace mkguest {

namespace fs = std::filesystem;

FsTree load_rootfs_source(const RootfsSource& src) {
  FsTree tree;
  FsEntry root;
  root.path = "";
  root.type = FsType::kDir;
  root.mode = 0755;
  root.mtime = src.source_date;
  tree.put(root);
  for (const auto& layer : src.layers) {
    std::error_code ec;
    if (fs::is_directory(layer, ec)) {
      HostTreeOptions opt;
      opt.preserve_modes = true;
      opt.mtime = src.source_date;
      load_host_tree(tree, layer, layer.string(), opt);
    } else if (fs::exists(layer, ec)) {
      apply_oci_layer(tree, layer, layer.string(), src.limits);
    } else {
      throw file_error(layer.string(), "no such file or directory");
    }
  }
  return tree;
}

std::string tree_seed(const FsTree& tree) {
  Hasher h(HashAlg::kSha256);
  for (const auto& [path, e] : tree.entries()) {
    ByteWriter w;
    w.le32(static_cast<std::uint32_t>(path.size()));
    w.append(path);
    w.u8(static_cast<std::uint8_t>(e.type));
    w.le32(e.mode);
    w.le32(e.uid);
    w.le32(e.gid);
    w.le32(e.rdev_major);
    w.le32(e.rdev_minor);
    w.le64(e.type == FsType::kFile ? e.content.size : 0);
    w.le32(static_cast<std::uint32_t>(e.link_target.size()));
    w.append(e.link_target);
    for (const auto& [name, value] : e.xattrs) {
      w.le32(static_cast<std::uint32_t>(name.size()));
      w.append(name);
      w.le32(static_cast<std::uint32_t>(value.size()));
      w.append(value);
    }
    h.update(w.bytes());
  }
  return to_hex(h.finish());
}

ErofsStats build_erofs_image(const RootfsSource& src, const fs::path& out, std::string_view seed) {
  FsTree tree = load_rootfs_source(src);
  ErofsOptions opt;
  opt.build_time = src.source_date;
  opt.uuid = erofs_uuid_from_seed(seed.empty() ? tree_seed(tree) : std::string(seed));
  FileSink sink(out);
  ErofsStats stats = write_erofs(tree, opt, sink);
  sink.finish();
  return stats;
}

}  // namespace mkguest
