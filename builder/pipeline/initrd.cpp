#include "builder/pipeline/initrd.h"

#include <sys/stat.h>

#include <map>

#include "base/error.h"
#include "builder/formats/cpio/writer.h"
#include "builder/fstree/initrd_deps.h"
#include "builder/fstree/load.h"

namespace mkguest {

namespace {

class NoFinish : public ByteSink {
 public:
  explicit NoFinish(ByteSink& next) : next_(next) {}
  void write(std::span<const std::uint8_t> d) override { next_.write(d); }
  void finish() override {}

 private:
  ByteSink& next_;
};

FsEntry file_entry(const recipe::InitrdFile& f, std::int64_t mtime, const MappedInputs& inputs) {
  FsEntry e;
  e.path = f.dst;
  e.type = FsType::kFile;
  struct stat st {};
  if (::stat(f.src.resolved.c_str(), &st) != 0) {
    throw file_error(f.src.display, "cannot stat");
  }
  if (!S_ISREG(st.st_mode)) throw file_error(f.src.display, "not a regular file");
  e.mode = f.mode ? *f.mode : ((st.st_mode & 0111) ? 0755 : 0644);
  e.uid = f.owner.uid;
  e.gid = f.owner.gid;
  e.mtime = mtime;
  e.content.host_path = f.src.resolved;
  e.content.size = static_cast<std::uint64_t>(st.st_size);
  use_mapped_input(e.content, inputs);
  e.origin = f.src.display;
  return e;
}

// A file resolved from a sysroot or a modules directory: root-owned, 0755 for
// programs and libraries, 0644 for modules and their tables.
FsEntry resolved_entry(const ResolvedFile& f, std::int64_t mtime, const std::string& from) {
  FsEntry e;
  e.path = f.image_path;
  e.type = FsType::kFile;
  e.mode = f.executable ? 0755 : 0644;
  e.mtime = mtime;
  std::error_code ec;
  e.content.size = std::filesystem::file_size(f.host_path, ec);
  if (ec) throw file_error(f.host_path.string(), "cannot stat");
  e.content.host_path = f.host_path;
  e.origin = from + " (" + f.why + ")";
  return e;
}

}  // namespace

Codec codec_of(recipe::Compression c) {
  switch (c) {
    case recipe::Compression::kNone:
      return Codec::kNone;
    case recipe::Compression::kGzip:
      return Codec::kGzip;
    case recipe::Compression::kZstd:
      return Codec::kZstd;
    case recipe::Compression::kXz:
      return Codec::kXz;
  }
  return Codec::kNone;
}

FsTree initrd_tree(const recipe::InitrdSpec& spec, std::int64_t mtime, std::uint64_t archive_budget,
                   const MappedInputs& inputs) {
  FsTree t;
  FsEntry root;
  root.type = FsType::kDir;
  root.mode = 0755;
  t.put(root);
  for (const auto& a : spec.archives) {
    // One budget for the whole build: each archive gets what the earlier
    // ones left.
    ArchiveLimits limits;
    limits.max_total_size = archive_budget;
    const ArchiveDrop drop{a.drop_devices, a.drop_setid, a.drop_xattrs};
    for_each_archive_entry(a.src.resolved, a.src.display, a.dst, limits, [&](FsEntry&& e) {
      if (e.type == FsType::kFile) archive_budget -= e.content.size;
      merge_archive_entry(t, std::move(e), drop, a.src.display, "archive");
    });
  }
  for (const auto& tr : spec.trees) {
    HostTreeOptions o;
    o.dst = tr.dst;
    o.uid = tr.owner.uid;
    o.gid = tr.owner.gid;
    o.preserve_modes = tr.preserve_modes;
    o.mtime = mtime;
    load_host_tree(t, tr.src.resolved, tr.src.display, o);
  }
  if (spec.binaries.present) {
    const auto& b = spec.binaries;
    // A file reached under two names (the dynamic loader as PT_INTERP and as a
    // DT_NEEDED of libc) is stored once, the second name a hard link.
    std::map<std::filesystem::path, std::string> first;
    for (const auto& f :
         resolve_binaries(b.sysroot.resolved, b.paths, b.mark.file, b.mark.place())) {
      FsEntry e = resolved_entry(f, mtime, b.sysroot.display);
      const auto [it, fresh] =
          first.emplace(std::filesystem::weakly_canonical(f.host_path), e.path);
      if (!fresh) {
        e.type = FsType::kHardlink;
        e.link_target = it->second;
        e.content = {};
      }
      t.put(std::move(e));
    }
  }
  if (spec.modules.present) {
    const auto& m = spec.modules;
    const ResolvedModules r =
        resolve_modules(m.dir.resolved, m.dir.display, m.names, m.mark.file, m.mark.place());
    for (const auto& f : r.files) t.put(resolved_entry(f, mtime, m.dir.display));
    for (const auto& f : r.extras) t.put(resolved_entry(f, mtime, m.dir.display));
    FsEntry dep;
    dep.path = "lib/modules/" + r.kernel_version + "/modules.dep";
    dep.mode = 0644;
    dep.mtime = mtime;
    dep.content.memory = std::make_shared<const Bytes>(r.modules_dep.begin(), r.modules_dep.end());
    dep.content.size = r.modules_dep.size();
    dep.origin = m.mark.file + ":" + m.mark.place();
    t.put(dep);
  }
  for (const auto& d : spec.directories) {
    FsEntry e;
    e.path = d.path;
    e.type = FsType::kDir;
    e.mode = d.mode;
    e.uid = d.owner.uid;
    e.gid = d.owner.gid;
    e.origin = d.mark.file + ":" + d.mark.place();
    FsEntry* old = t.find(d.path);
    if (old && old->type == FsType::kDir) {
      old->mode = e.mode;
      old->uid = e.uid;
      old->gid = e.gid;
    } else {
      t.put(e);
    }
  }
  for (const auto& f : spec.files) t.put(file_entry(f, mtime, inputs));
  for (const auto& l : spec.symlinks) {
    FsEntry e;
    e.path = l.path;
    e.type = FsType::kSymlink;
    e.mode = 0777;
    e.link_target = l.target;
    e.uid = l.owner.uid;
    e.gid = l.owner.gid;
    e.origin = l.mark.file + ":" + l.mark.place();
    t.put(e);
  }
  for (const auto& d : spec.devices) {
    FsEntry e;
    e.path = d.path;
    e.type = d.block ? FsType::kBlockDev : FsType::kCharDev;
    e.mode = d.mode;
    e.rdev_major = d.major;
    e.rdev_minor = d.minor;
    e.uid = d.owner.uid;
    e.gid = d.owner.gid;
    e.origin = d.mark.file + ":" + d.mark.place();
    t.put(e);
  }
  t.clamp_mtimes(mtime);
  return t;
}

FsTree initrd_early_tree(const recipe::InitrdSpec& spec, const MappedInputs& inputs) {
  FsTree t;
  FsEntry root;
  root.type = FsType::kDir;
  root.mode = 0755;
  t.put(root);
  for (const auto& f : spec.early) t.put(file_entry(f, 0, inputs));
  return t;
}

InitrdStats write_initrd(const recipe::InitrdSpec& spec, std::int64_t mtime, ByteSink& out,
                         const MappedInputs& inputs) {
  InitrdStats s;
  NoFinish raw(out);
  if (!spec.early.empty()) {
    auto st = write_cpio(initrd_early_tree(spec, inputs), mtime, raw);
    s.early_bytes = st.bytes;
    s.entries += st.entries;
  }
  FsTree tree = initrd_tree(spec, mtime, kMaxInitrdArchiveBytes, inputs);
  auto comp = make_compressor(codec_of(spec.compression), spec.level, raw);
  auto st = write_cpio(tree, mtime, *comp);
  comp->finish();
  out.finish();
  s.entries += st.entries;
  s.cpio_bytes = st.bytes;
  return s;
}

}  // namespace mkguest
