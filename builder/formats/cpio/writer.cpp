#include "builder/formats/cpio/writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>
#include <algorithm>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "base/error.h"

namespace mkguest {

namespace {

struct Writer {
  archive* a = archive_write_new();
  ~Writer() { archive_write_free(a); }
};

struct Context {
  ByteSink* out;
  std::uint64_t bytes = 0;
};

la_ssize_t on_write(archive*, void* ctx, const void* buf, size_t len) {
  auto* c = static_cast<Context*>(ctx);
  c->out->write({static_cast<const std::uint8_t*>(buf), len});
  c->bytes += len;
  return static_cast<la_ssize_t>(len);
}

void check(archive* a, int rc, const std::string& what) {
  if (rc < ARCHIVE_WARN) {
    const char* msg = archive_error_string(a);
    throw InternalError("libarchive: " + what + ": " + (msg ? msg : "failed"));
  }
}

unsigned file_type(FsType t) {
  switch (t) {
    case FsType::kFile:
    case FsType::kHardlink:
      return AE_IFREG;
    case FsType::kDir:
      return AE_IFDIR;
    case FsType::kSymlink:
      return AE_IFLNK;
    case FsType::kCharDev:
      return AE_IFCHR;
    case FsType::kBlockDev:
      return AE_IFBLK;
    case FsType::kFifo:
      return AE_IFIFO;
    case FsType::kSocket:
      return AE_IFSOCK;
  }
  return 0;
}

void stream_content(archive* a, const FsEntry& e) {
  ContentReader reader(e.content, e.path);
  std::vector<std::uint8_t> buf(1 << 20);
  for (std::uint64_t off = 0; off < e.content.size; off += buf.size()) {
    std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), e.content.size - off));
    reader.read(off, std::span<std::uint8_t>(buf.data(), n));
    check(a, static_cast<int>(archive_write_data(a, buf.data(), n)), "data");
  }
}

}  // namespace

CpioStats write_cpio(const FsTree& tree, std::int64_t mtime, ByteSink& out) {
  const auto& entries = tree.entries();
  // Plan: inode numbers, link counts, which link carries the data.
  std::map<std::string, std::uint32_t> subdirs;
  std::map<std::string, std::vector<std::string>> links;  // leader -> all names, sorted
  for (const auto& [path, e] : entries) {
    if (e.type == FsType::kSocket) {
      throw file_error(e.origin, "'/" + path + "': sockets cannot be stored in an initramfs");
    }
    if (!e.xattrs.empty()) {
      throw file_error(e.origin, "'/" + path + "': cpio cannot store extended attributes");
    }
    if (e.type == FsType::kDir && !path.empty()) {
      auto slash = path.rfind('/');
      ++subdirs[slash == std::string::npos ? "" : path.substr(0, slash)];
    }
    if (e.type == FsType::kHardlink) {
      const FsEntry* leader = tree.find(e.link_target);
      if (!leader || leader->type != FsType::kFile) {
        throw file_error(e.origin, "'/" + path + "': hard link to '/" + e.link_target +
                                       "', which is not a regular file");
      }
      auto& group = links[e.link_target];
      if (group.empty()) group.push_back(e.link_target);
      group.push_back(path);
    }
  }
  for (auto& [_, group] : links) std::sort(group.begin(), group.end());

  std::map<std::string, std::uint32_t> ino_of;
  std::uint32_t next_ino = 1;
  for (const auto& [path, e] : entries) {
    if (e.type == FsType::kHardlink) continue;
    ino_of[path] = next_ino++;
  }

  Writer w;
  Context ctx{&out};
  check(w.a, archive_write_set_format_cpio_newc(w.a), "format");
  check(w.a, archive_write_add_filter_none(w.a), "filter");
  check(w.a, archive_write_set_bytes_per_block(w.a, 0), "block size");
  check(w.a, archive_write_set_bytes_in_last_block(w.a, 1), "last block");
  check(w.a, archive_write_open(w.a, &ctx, nullptr, on_write, nullptr), "open");

  CpioStats stats;
  for (const auto& [path, e] : entries) {
    archive_entry* ae = archive_entry_new();
    const std::string& leader_path = e.type == FsType::kHardlink ? e.link_target : path;
    const FsEntry& data_entry = e.type == FsType::kHardlink ? *tree.find(leader_path) : e;
    archive_entry_set_pathname(ae, path.empty() ? "." : path.c_str());
    archive_entry_set_filetype(ae, file_type(e.type));
    archive_entry_set_perm(ae, (e.type == FsType::kHardlink ? data_entry.mode : e.mode) & 07777);
    archive_entry_set_uid(ae, e.type == FsType::kHardlink ? data_entry.uid : e.uid);
    archive_entry_set_gid(ae, e.type == FsType::kHardlink ? data_entry.gid : e.gid);
    archive_entry_set_mtime(ae, mtime, 0);
    archive_entry_set_dev(ae, 0);
    archive_entry_set_ino64(ae, ino_of[leader_path]);
    std::uint64_t size = 0;
    bool carries_data = false;
    if (e.type == FsType::kFile || e.type == FsType::kHardlink) {
      auto it = links.find(leader_path);
      unsigned nlink = it == links.end() ? 1 : static_cast<unsigned>(it->second.size());
      archive_entry_set_nlink(ae, nlink);
      carries_data = it == links.end() || it->second.back() == path;
      if (carries_data) size = data_entry.content.size;
    } else if (e.type == FsType::kDir) {
      archive_entry_set_nlink(ae, 2 + subdirs[path]);
    } else {
      archive_entry_set_nlink(ae, 1);
    }
    if (e.type == FsType::kSymlink) {
      archive_entry_set_symlink(ae, e.link_target.c_str());
      size = e.link_target.size();
    }
    if (e.type == FsType::kCharDev || e.type == FsType::kBlockDev) {
      archive_entry_set_rdevmajor(ae, e.rdev_major);
      archive_entry_set_rdevminor(ae, e.rdev_minor);
    }
    archive_entry_set_size(ae, static_cast<la_int64_t>(size));
    int rc = archive_write_header(w.a, ae);
    archive_entry_free(ae);
    check(w.a, rc, "header of '" + path + "'");
    if (carries_data && size > 0) {
      stream_content(w.a, data_entry);
    }
    ++stats.entries;
  }
  check(w.a, archive_write_close(w.a), "close");
  stats.bytes = ctx.bytes;
  return stats;
}

}  // namespace mkguest
