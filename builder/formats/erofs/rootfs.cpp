// Rootfs sources to an EROFS image (see builder/formats/erofs/rootfs.h).
#include "builder/formats/erofs/rootfs.h"

#include <sys/stat.h>

#include "base/byte_writer.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/sink.h"
#include "builder/fstree/oci_layers.h"

namespace mkguest {

namespace fs = std::filesystem;

namespace {

// Before `path` (a regular file) is replaced: hard links to it keep the old
// file. The first link in path order takes its contents and metadata, the
// others point at that link.
void detach_hard_links(FsTree& tree, const std::string& path) {
  std::vector<std::string> links;
  for (const auto& [p, e] : tree.entries()) {
    if (e.type == FsType::kHardlink && e.link_target == path) links.push_back(p);
  }
  if (links.empty()) return;
  FsEntry old = *tree.find(path);
  FsEntry* first = tree.find(links.front());
  old.path = first->path;
  old.origin = first->origin;
  *first = std::move(old);
  for (std::size_t i = 1; i < links.size(); ++i) tree.find(links[i])->link_target = links.front();
}

// Puts `e` in place of whatever is at its path; a directory over a
// directory only takes the new metadata.
void overlay(FsTree& tree, FsEntry&& e) {
  if (FsEntry* old = tree.find(e.path)) {
    if (old->type == FsType::kDir && e.type == FsType::kDir) {
      old->mode = e.mode;
      old->uid = e.uid;
      old->gid = e.gid;
      old->mtime = e.mtime;
      old->origin = e.origin;
      return;
    }
    if (old->type == FsType::kFile) detach_hard_links(tree, e.path);
    tree.remove(e.path);
  }
  tree.put(std::move(e));
}

}  // namespace

void apply_rootfs_file(FsTree& tree, const recipe::RootfsFile& f, std::int64_t mtime,
                       const MappedInputs& inputs) {
  using Kind = recipe::RootfsFile::Kind;
  if (f.kind == Kind::kTree) {
    FsTree sub;
    HostTreeOptions opt;
    opt.dst = f.dst;
    opt.uid = f.owner.uid;
    opt.gid = f.owner.gid;
    opt.preserve_modes = true;
    opt.mtime = mtime;
    load_host_tree(sub, f.src.resolved, f.src.display, opt);
    for (const auto& [path, e] : sub.entries()) {
      // The destination directory itself stays as it is when it exists.
      if (path == f.dst && tree.find(path) && tree.find(path)->type == FsType::kDir) continue;
      if (path.size() < f.dst.size()) continue;  // parents sub created on its own
      FsEntry copy = e;
      overlay(tree, std::move(copy));
    }
    return;
  }
  FsEntry e;
  e.path = f.dst;
  e.uid = f.owner.uid;
  e.gid = f.owner.gid;
  e.mtime = mtime;
  e.origin = f.mark.file + ":" + f.mark.place();
  if (f.kind == Kind::kFile) {
    struct stat st {};
    if (::stat(f.src.resolved.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      throw file_error(f.src.display, "not a regular file");
    }
    e.type = FsType::kFile;
    e.mode = f.mode ? *f.mode : ((st.st_mode & 0111) ? 0755 : 0644);
    e.content.host_path = f.src.resolved;
    e.content.size = static_cast<std::uint64_t>(st.st_size);
    use_mapped_input(e.content, inputs);
    e.origin = f.src.display;
  } else if (f.kind == Kind::kDirectory) {
    e.type = FsType::kDir;
    e.mode = f.mode ? *f.mode : 0755;
  } else {
    e.type = FsType::kSymlink;
    e.mode = 0777;
    e.link_target = f.target;
  }
  overlay(tree, std::move(e));
}

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
  for (const auto& f : src.files) apply_rootfs_file(tree, f, src.source_date, src.inputs);
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
