#include "builder/fstree/load.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "base/error.h"

namespace mkguest {

namespace fs = std::filesystem;

void load_host_tree(FsTree& tree, const fs::path& src, const std::string& display,
                    const HostTreeOptions& opt) {
  std::error_code ec;
  if (!fs::is_directory(src, ec)) {
    throw file_error(display, "not a directory");
  }
  // Collect first, sorted, so hard-link leaders are chosen by path order.
  std::vector<std::pair<std::string, fs::path>> items;
  for (auto it = fs::recursive_directory_iterator(src, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    auto rel = it->path().lexically_relative(src).generic_string();
    auto canon = canonical_fs_path(rel);
    if (!canon || canon->empty()) {
      throw file_error(display, "cannot use path '" + rel + "'");
    }
    items.emplace_back(*canon, it->path());
  }
  if (ec) throw file_error(display, "cannot read directory: " + ec.message());
  std::sort(items.begin(), items.end());

  std::map<std::pair<dev_t, ino_t>, std::string> leaders;
  FsEntry root;
  root.path = opt.dst;
  root.type = FsType::kDir;
  root.mode = 0755;
  root.uid = opt.uid;
  root.gid = opt.gid;
  root.mtime = opt.mtime;
  root.origin = display;
  if (!tree.find(opt.dst)) tree.put(root);

  for (const auto& [rel, host] : items) {
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) throw file_error(host.string(), "cannot stat");
    FsEntry e;
    e.path = join_fs_path(opt.dst, rel);
    e.uid = opt.uid;
    e.gid = opt.gid;
    e.mtime = opt.mtime;
    e.origin = display + "/" + rel;
    std::uint32_t perm = st.st_mode & 07777;
    bool exec = st.st_mode & 0111;
    if (S_ISDIR(st.st_mode)) {
      e.type = FsType::kDir;
      e.mode = opt.preserve_modes ? perm : 0755;
    } else if (S_ISLNK(st.st_mode)) {
      e.type = FsType::kSymlink;
      e.mode = 0777;
      e.link_target = fs::read_symlink(host).string();
    } else if (S_ISREG(st.st_mode)) {
      e.mode = opt.preserve_modes ? perm : (exec ? 0755 : 0644);
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto leader = st.st_nlink > 1 ? leaders.find(key) : leaders.end();
      if (leader != leaders.end()) {
        e.type = FsType::kHardlink;
        e.link_target = leader->second;
      } else {
        if (st.st_nlink > 1) leaders.emplace(key, e.path);
        e.type = FsType::kFile;
        e.content.host_path = host;
        e.content.size = static_cast<std::uint64_t>(st.st_size);
      }
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      e.type = S_ISCHR(st.st_mode) ? FsType::kCharDev : FsType::kBlockDev;
      e.mode = opt.preserve_modes ? perm : 0600;
      e.rdev_major = major(st.st_rdev);
      e.rdev_minor = minor(st.st_rdev);
    } else if (S_ISFIFO(st.st_mode)) {
      e.type = FsType::kFifo;
      e.mode = opt.preserve_modes ? perm : 0644;
    } else {
      e.type = FsType::kSocket;
      e.mode = opt.preserve_modes ? perm : 0755;
    }
    tree.put(std::move(e));
  }
}

namespace {
// libarchive may have no error text (archive_error_string returns NULL).
std::string la_error(archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "unreadable data";
}

struct ArchiveReader {
  archive* a = archive_read_new();
  ~ArchiveReader() { archive_read_free(a); }
};
}  // namespace

namespace {
// Whether a regular file's bytes lie contiguously in the archive file itself,
// so the tree can point at them instead of copying them: an uncompressed
// tar read from a file, and an entry that is not sparse. Right after
// archive_read_next_header the tar reader has consumed every header of the
// entry (pax, GNU long names), so the bytes consumed so far are the data's
// offset.
bool contents_in_place(archive* a, archive_entry* ae) {
  return (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR &&
         archive_filter_count(a) == 1 && archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE &&
         archive_entry_sparse_count(ae) == 0;
}

void read_entries(ArchiveReader& r, const std::string& display, const std::string& dst,
                  const ArchiveLimits& limits, const std::function<void(FsEntry&&)>& fn,
                  const fs::path& file = {}) {
  std::uint64_t count = 0, total = 0;
  std::shared_ptr<SpillFile> spill, in_place;  // created on first use
  std::vector<std::uint8_t> buf(1 << 18);
  archive_entry* ae = nullptr;
  for (;;) {
    int rc = archive_read_next_header(r.a, &ae);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      throw InputError(display, "entry " + std::to_string(count + 1),
                       "bad archive: " + la_error(r.a));
    }
    if (++count > limits.max_entries) {
      throw file_error(display, "more than " + std::to_string(limits.max_entries) + " entries");
    }
    std::string name = archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "";
    if (name.size() > kMaxImagePath) {
      // Checked before canonicalising: parents of a deep path cost memory
      // quadratic in its depth.
      throw file_error(display, "entry '" + name.substr(0, 64) + "...': path longer than " +
                                    std::to_string(kMaxImagePath) + " bytes");
    }
    auto canon = canonical_fs_path(name);
    if (!canon) {
      throw file_error(display, "entry '" + name +
                                    "': unsafe path (it escapes the tree, or a name is longer than "
                                    "255 bytes)");
    }
    FsEntry e;
    e.path = join_fs_path(dst, *canon);
    if (e.path.size() > kMaxImagePath) {
      throw file_error(display, "entry '" + name.substr(0, 64) + "...': path longer than " +
                                    std::to_string(kMaxImagePath) + " bytes in the image");
    }
    e.origin = display + ": entry '" + name + "'";
    e.mode = archive_entry_perm(ae) & 07777;
    e.uid = static_cast<std::uint32_t>(archive_entry_uid(ae));
    e.gid = static_cast<std::uint32_t>(archive_entry_gid(ae));
    e.mtime = archive_entry_mtime(ae);
    if (const char* hl = archive_entry_hardlink(ae)) {
      auto target = canonical_fs_path(hl);
      if (!target || target->empty()) {
        throw file_error(display, "entry '" + name + "': unsafe hard-link target '" + hl + "'");
      }
      e.type = FsType::kHardlink;
      e.link_target = join_fs_path(dst, *target);
    } else {
      switch (archive_entry_filetype(ae)) {
        case AE_IFREG:
          e.type = FsType::kFile;
          break;
        case AE_IFDIR:
          e.type = FsType::kDir;
          break;
        case AE_IFLNK:
          e.type = FsType::kSymlink;
          e.link_target = archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "";
          break;
        case AE_IFCHR:
          e.type = FsType::kCharDev;
          break;
        case AE_IFBLK:
          e.type = FsType::kBlockDev;
          break;
        case AE_IFIFO:
          e.type = FsType::kFifo;
          break;
        case AE_IFSOCK:
          e.type = FsType::kSocket;
          break;
        default:
          throw file_error(display, "entry '" + name + "': unknown file type");
      }
    }
    if (canon->empty() && e.type != FsType::kDir) {
      // "." or "": only a directory may stand for the archive's root.
      throw file_error(display, "entry '" + name + "': a " + fs_type_name(e.type) +
                                    " cannot replace the root directory");
    }
    if (e.type == FsType::kCharDev || e.type == FsType::kBlockDev) {
      e.rdev_major = archive_entry_rdevmajor(ae);
      e.rdev_minor = archive_entry_rdevminor(ae);
    }
    archive_entry_xattr_reset(ae);
    const char* xname = nullptr;
    const void* xval = nullptr;
    size_t xsize = 0;
    while (archive_entry_xattr_next(ae, &xname, &xval, &xsize) == ARCHIVE_OK) {
      auto p = static_cast<const std::uint8_t*>(xval);
      e.xattrs[xname] = Bytes(p, p + xsize);
    }
    if (e.type == FsType::kFile) {
      la_int64_t declared = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
      // A sparse file that is only a hole may declare size 0: its sparse map
      // still ends at the real size.
      archive_entry_sparse_reset(ae);
      la_int64_t so = 0, sl = 0;
      while (archive_entry_sparse_next(ae, &so, &sl) == ARCHIVE_OK) {
        if (so >= 0 && sl >= 0 && so <= INT64_MAX - sl) declared = std::max(declared, so + sl);
      }
      if (declared < 0 || static_cast<std::uint64_t>(declared) > limits.max_file_size ||
          static_cast<std::uint64_t>(declared) > limits.max_total_size - total) {
        throw file_error(display, "entry '" + name + "': size " + std::to_string(declared) +
                                      " exceeds the limits (" +
                                      std::to_string(limits.max_file_size) + " bytes per file, " +
                                      std::to_string(limits.max_total_size) + " in all)");
      }
      if (!file.empty() && !limits.spill_dir.empty() && contents_in_place(r.a, ae)) {
        // Read at write time from the tar itself; libarchive skips the data.
        if (!in_place) in_place = std::make_shared<SpillFile>(file, SpillFile::ReadOnly{});
        e.content.spill = in_place;
        e.content.spill_offset = static_cast<std::uint64_t>(archive_filter_bytes(r.a, 0));
        e.content.size = static_cast<std::uint64_t>(declared);
        if (e.content.spill_offset > in_place->size() ||
            e.content.size > in_place->size() - e.content.spill_offset) {
          throw file_error(display, "entry '" + name + "': data past the end of the archive");
        }
        total += e.content.size;
        fn(std::move(e));
        continue;
      }
      std::shared_ptr<Bytes> data;
      if (!limits.spill_dir.empty() && !spill) {
        spill = std::make_shared<SpillFile>(limits.spill_dir);
      }
      if (spill) {
        e.content.spill = spill;
        e.content.spill_offset = spill->size();
      } else {
        data = std::make_shared<Bytes>();
        data->reserve(static_cast<std::size_t>(declared));
      }
      std::uint64_t size = 0;
      for (;;) {
        la_ssize_t n = archive_read_data(r.a, buf.data(), buf.size());
        if (n < 0) {
          throw file_error(display, "entry '" + name + "': " + la_error(r.a));
        }
        if (n == 0) break;
        total += static_cast<std::uint64_t>(n);
        size += static_cast<std::uint64_t>(n);
        if (size > limits.max_file_size || total > limits.max_total_size) {
          throw file_error(display, "entry '" + name + "': contents exceed the size limit");
        }
        std::span<const std::uint8_t> chunk(buf.data(), static_cast<std::size_t>(n));
        if (spill) {
          spill->append(chunk);
        } else {
          data->insert(data->end(), chunk.begin(), chunk.end());
        }
      }
      // A sparse file's trailing hole yields no data blocks: the declared
      // size still holds (bsdtar and GNU tar extract it so).
      if (size < static_cast<std::uint64_t>(declared)) {
        std::fill(buf.begin(), buf.end(), 0);
        while (size < static_cast<std::uint64_t>(declared)) {
          std::size_t n = static_cast<std::size_t>(
              std::min<std::uint64_t>(buf.size(), static_cast<std::uint64_t>(declared) - size));
          total += n;
          size += n;
          if (total > limits.max_total_size) {
            throw file_error(display, "entry '" + name + "': contents exceed the size limit");
          }
          std::span<const std::uint8_t> chunk(buf.data(), n);
          if (spill) {
            spill->append(chunk);
          } else {
            data->insert(data->end(), chunk.begin(), chunk.end());
          }
        }
      }
      e.content.size = size;
      if (data) e.content.memory = std::move(data);
    }
    fn(std::move(e));
  }
}
}  // namespace

void for_each_archive_entry(const fs::path& path, const std::string& display,
                            const std::string& dst, const ArchiveLimits& limits,
                            const std::function<void(FsEntry&&)>& fn) {
  // A FIFO or device would block (or never end) in open and read.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw file_error(display, "not a regular file");
  }
  ArchiveReader r;
  archive_read_support_filter_all(r.a);
  archive_read_support_format_all(r.a);
  if (archive_read_open_filename(r.a, path.c_str(), 1 << 16) != ARCHIVE_OK) {
    throw file_error(display, "cannot read archive: " + la_error(r.a));
  }
  std::error_code ec;
  bool regular = fs::is_regular_file(path, ec);
  read_entries(r, display, dst, limits, fn, regular ? fs::absolute(path) : fs::path());
}

void for_each_archive_entry(std::span<const std::uint8_t> data, const std::string& display,
                            const std::string& dst, const ArchiveLimits& limits,
                            const std::function<void(FsEntry&&)>& fn) {
  ArchiveReader r;
  archive_read_support_filter_all(r.a);
  archive_read_support_format_all(r.a);
  if (archive_read_open_memory(r.a, data.data(), data.size()) != ARCHIVE_OK) {
    throw file_error(display, "cannot read archive: " + la_error(r.a));
  }
  read_entries(r, display, dst, limits, fn);
}

void merge_archive_entry(FsTree& tree, FsEntry&& e, const ArchiveDrop& drop,
                         const std::string& display, const std::string& where) {
  if (drop.devices && (e.type == FsType::kCharDev || e.type == FsType::kBlockDev)) return;
  if (drop.setid) e.mode &= ~06000u;
  if (drop.xattrs) e.xattrs.clear();
  if (e.type == FsType::kHardlink) {
    const FsEntry* target = tree.find(e.link_target);
    if (!target || target->type != FsType::kFile) {
      throw file_error(display, "entry '" + e.path + "': hard link to '" + e.link_target +
                                    "', which is not a regular file in the " + where);
    }
  }
  if (e.type == FsType::kDir) {
    if (FsEntry* old = tree.find(e.path); old && old->type == FsType::kDir) {
      // A directory listed again keeps what is below it.
      old->mode = e.mode;
      old->uid = e.uid;
      old->gid = e.gid;
      old->mtime = e.mtime;
      old->xattrs = e.xattrs;
      return;
    }
  }
  tree.put(std::move(e));
}

void load_archive(FsTree& tree, const fs::path& archive, const std::string& display,
                  const std::string& dst, const ArchiveLimits& limits, const ArchiveDrop& drop) {
  for_each_archive_entry(archive, display, dst, limits, [&](FsEntry&& e) {
    merge_archive_entry(tree, std::move(e), drop, display, "archive");
  });
}

}  // namespace mkguest
