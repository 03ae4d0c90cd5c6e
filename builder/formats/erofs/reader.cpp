// Strict reader of uncompressed EROFS images (Linux fs/erofs/erofs_fs.h; the
// layout summary is in builder/formats/erofs/format.h). Supports 4 KiB blocks, the
// flat-plain and flat-inline layouts, compact and extended inodes, shared and
// inline xattrs; rejects every incompat feature (compression, chunks, extra
// devices) instead of guessing.
#include "builder/formats/erofs/reader.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "base/byte_reader.h"
#include "base/error.h"
#include "builder/formats/erofs/format.h"

namespace mkguest {

using namespace erofs;

namespace {

struct Inode {
  std::uint64_t nid = 0;
  std::size_t off = 0;  // byte offset of the inode
  bool extended = false;
  std::uint16_t layout = 0;
  std::uint32_t mode = 0, nlink = 0, uid = 0, gid = 0, iu = 0;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
  std::size_t xattr_size = 0;
};

class Reader {
 public:
  Reader(std::span<const std::uint8_t> image, const std::string& source) : r_(image, source) {}

  ErofsImage run() {
    r_.need(kSuperOffset, kSuperSize, "superblock");
    std::size_t sb = kSuperOffset;
    if (r_.le32(sb + kSbMagic) != kMagic) r_.fail(sb, "not an EROFS image (bad magic)");
    std::uint32_t compat = r_.le32(sb + kSbFeatureCompat);
    if (r_.u8(sb + kSbBlkszBits) != kBlockBits)
      r_.fail(sb + kSbBlkszBits, "block size is not 4096");
    r_.need(0, kBlockSize, "block 0");
    if (compat & kCompatSbChksum) {
      Bytes blk(r_.data().begin() + kSuperOffset, r_.data().begin() + kBlockSize);
      std::fill_n(blk.begin() + kSbChecksum, 4, 0);
      if (crc32c(0xffffffffu, blk) != r_.le32(sb + kSbChecksum)) {
        r_.fail(sb + kSbChecksum, "superblock checksum mismatch");
      }
    }
    if (std::uint32_t incompat = r_.le32(sb + kSbFeatureIncompat); incompat != 0) {
      r_.fail(sb + kSbFeatureIncompat, "unsupported incompat features 0x" +
                                           to_hex(Bytes{static_cast<std::uint8_t>(incompat >> 24),
                                                        static_cast<std::uint8_t>(incompat >> 16),
                                                        static_cast<std::uint8_t>(incompat >> 8),
                                                        static_cast<std::uint8_t>(incompat)}));
    }
    if (r_.u8(sb + kSbExtSlots) != 0) r_.fail(sb + kSbExtSlots, "superblock extension slots");
    img_.blocks = r_.le32(sb + kSbBlocks);
    if (img_.blocks > r_.size() / kBlockSize)
      r_.fail(sb + kSbBlocks, "block count exceeds the image");
    limit_ = img_.blocks * kBlockSize;
    img_.inodes = r_.le64(sb + kSbInos);
    img_.build_time = static_cast<std::int64_t>(r_.le64(sb + kSbBuildTime));
    meta_ = static_cast<std::uint64_t>(r_.le32(sb + kSbMetaBlkaddr)) * kBlockSize;
    xattr_ = static_cast<std::uint64_t>(r_.le32(sb + kSbXattrBlkaddr)) * kBlockSize;
    auto u = r_.bytes(sb + kSbUuid, 16);
    std::copy(u.begin(), u.end(), img_.uuid.begin());
    std::uint64_t root = r_.le16(sb + kSbRootNid);

    struct Work {
      std::uint64_t nid, parent;
      std::string path;
    };
    std::vector<Work> stack{{root, root, ""}};
    std::set<std::uint64_t> dirs_seen;
    std::unordered_map<std::uint64_t, std::uint32_t> names;  // non-directory nid -> names
    while (!stack.empty()) {
      Work w = stack.back();
      stack.pop_back();
      Inode ino = inode(w.nid);
      ErofsListEntry e = entry(ino, w.path);
      if (e.type != FsType::kDir) {
        if (w.path.empty()) r_.fail(ino.off, "root is not a directory");
        names[w.nid]++;
        img_.entries.push_back(std::move(e));
        continue;
      }
      if (!dirs_seen.insert(w.nid).second) r_.fail(ino.off, "directory reached twice");
      std::uint32_t subdirs = 0;
      for (const auto& d : dirents(ino)) {
        if (d.name == ".") {
          if (d.nid != w.nid) r_.fail(ino.off, "'.' does not point at its directory");
          continue;
        }
        if (d.name == "..") {
          if (d.nid != w.parent) r_.fail(ino.off, "'..' does not point at the parent");
          continue;
        }
        Inode child = inode(d.nid);
        if (d.file_type != file_type_of(child.mode)) {
          r_.fail(ino.off, "dirent '" + d.name + "': file type disagrees with the inode");
        }
        subdirs += d.file_type == kFtDir;
        stack.push_back({d.nid, w.nid, w.path.empty() ? d.name : w.path + "/" + d.name});
      }
      if (ino.nlink != 2 + subdirs) r_.fail(ino.off, "directory link count is wrong");
      img_.entries.push_back(std::move(e));
    }
    for (const auto& e : img_.entries) {
      if (e.type != FsType::kDir && names.at(e.nid) != e.nlink) {
        throw offset_error(r_.source(), meta_ + e.nid * kSlotSize,
                           "'" + e.path + "': link count disagrees with the names found");
      }
    }
    std::sort(img_.entries.begin(), img_.entries.end(),
              [](const ErofsListEntry& a, const ErofsListEntry& b) { return a.path < b.path; });
    return std::move(img_);
  }

 private:
  struct Dirent {
    std::string name;
    std::uint64_t nid;
    std::uint8_t file_type;
  };

  static std::uint8_t file_type_of(std::uint32_t mode) {
    switch (mode & kIfMt) {
      case kIfReg:
        return kFtReg;
      case kIfDir:
        return kFtDir;
      case kIfLnk:
        return kFtSymlink;
      case kIfChr:
        return kFtChr;
      case kIfBlk:
        return kFtBlk;
      case kIfIfo:
        return kFtFifo;
      case kIfSock:
        return kFtSock;
    }
    return kFtUnknown;
  }

  std::size_t checked(std::uint64_t off, std::uint64_t len, std::size_t at, const char* what) {
    if (off > limit_ || len > limit_ - off)
      r_.fail(at, std::string(what) + " lies outside the image");
    return static_cast<std::size_t>(off);
  }

  Inode inode(std::uint64_t nid) {
    Inode n;
    n.nid = nid;
    if (nid > limit_ / kSlotSize) r_.fail(kSuperOffset, "nid out of range");
    n.off = checked(meta_ + nid * kSlotSize, kCompactInodeSize, kSuperOffset, "inode");
    std::uint16_t format = r_.le16(n.off);
    if (format >> 4) r_.fail(n.off, "unknown inode format bits");
    n.extended = format & 1;
    n.layout = (format >> 1) & 7;
    if (n.layout != kLayoutFlatPlain && n.layout != kLayoutFlatInline) {
      r_.fail(n.off, "unsupported data layout " + std::to_string(n.layout));
    }
    std::uint16_t icount = r_.le16(n.off + 2);
    n.xattr_size = icount ? kXattrHeaderSize + 4u * (icount - 1u) : 0;
    n.mode = r_.le16(n.off + 4);
    if (n.extended) {
      checked(n.off, kExtendedInodeSize, n.off, "extended inode");
      n.size = r_.le64(n.off + 8);
      n.iu = r_.le32(n.off + 16);
      n.uid = r_.le32(n.off + 24);
      n.gid = r_.le32(n.off + 28);
      n.mtime = static_cast<std::int64_t>(r_.le64(n.off + 32));
      n.nlink = r_.le32(n.off + 44);
    } else {
      n.nlink = r_.le16(n.off + 6);
      n.size = r_.le32(n.off + 8);
      n.iu = r_.le32(n.off + 16);
      n.uid = r_.le16(n.off + 24);
      n.gid = r_.le16(n.off + 26);
      n.mtime = img_.build_time;
    }
    checked(n.off, isize(n) + n.xattr_size, n.off, "inode xattrs");
    if (file_type_of(n.mode) == kFtUnknown) r_.fail(n.off + 4, "unknown file type in mode");
    return n;
  }

  static std::size_t isize(const Inode& n) {
    return n.extended ? kExtendedInodeSize : kCompactInodeSize;
  }

  // The inode's data as (up to two) spans: whole blocks, then the inline tail.
  std::vector<std::span<const std::uint8_t>> data(const Inode& n) {
    std::vector<std::span<const std::uint8_t>> parts;
    if (n.size == 0) return parts;
    std::uint64_t tail = n.layout == kLayoutFlatInline ? n.size % kBlockSize : 0;
    if (n.layout == kLayoutFlatInline && tail == 0) r_.fail(n.off, "inline layout without a tail");
    std::uint64_t body = n.size - tail;
    if (body) {
      std::size_t off =
          checked(std::uint64_t{n.iu} * kBlockSize,
                  (body + kBlockSize - 1) / kBlockSize * kBlockSize, n.off + 16, "data blocks");
      parts.push_back(r_.bytes(off, static_cast<std::size_t>(body)));
    }
    if (tail) {
      std::uint64_t at = n.off + isize(n) + n.xattr_size;
      if (at % kBlockSize + tail > kBlockSize) r_.fail(n.off, "inline tail crosses a block");
      parts.push_back(
          r_.bytes(checked(at, tail, n.off, "inline tail"), static_cast<std::size_t>(tail)));
    }
    return parts;
  }

  Bytes gather(const Inode& n) {
    Bytes out;
    for (auto p : data(n)) out.insert(out.end(), p.begin(), p.end());
    return out;
  }

  std::vector<Dirent> dirents(const Inode& dir) {
    Bytes d = gather(dir);
    ByteReader r(d, r_.source() + " (directory nid " + std::to_string(dir.nid) + ")");
    std::vector<Dirent> out;
    for (std::size_t b = 0; b < d.size(); b += kBlockSize) {
      std::size_t len = std::min(kBlockSize, d.size() - b);
      r.need(b, kDirentSize, "dirent");
      std::size_t first = r.le16(b + 8);
      if (first < kDirentSize || first % kDirentSize || first > len)
        r.fail(b + 8, "bad first nameoff");
      std::size_t count = first / kDirentSize;
      for (std::size_t i = 0; i < count; ++i) {
        std::size_t at = b + i * kDirentSize;
        std::size_t nameoff = r.le16(at + 8);
        std::size_t end = i + 1 < count ? r.le16(at + kDirentSize + 8) : len;
        if (nameoff >= len || end > len || end <= nameoff) r.fail(at + 8, "bad name offset");
        std::string name(reinterpret_cast<const char*>(d.data() + b + nameoff), end - nameoff);
        if (i + 1 == count) {
          auto nul = name.find('\0');
          if (nul != std::string::npos) {
            if (name.find_first_not_of('\0', nul) != std::string::npos)
              r.fail(at, "garbage after the last name");
            name.resize(nul);
          }
        }
        if (name.empty() || name.size() > kNameMax || name.find('/') != std::string::npos ||
            name.find('\0') != std::string::npos) {
          r.fail(b + nameoff, "invalid name");
        }
        if (!out.empty() && !(out.back().name < name)) r.fail(at, "names not sorted or duplicated");
        out.push_back({name, r.le64(at), r.u8(at + 10)});
      }
    }
    if (out.size() < 2 ||
        std::none_of(out.begin(), out.end(), [](auto& e) { return e.name == "."; }) ||
        std::none_of(out.begin(), out.end(), [](auto& e) { return e.name == ".."; })) {
      r_.fail(dir.off, "directory lacks '.' or '..'");
    }
    return out;
  }

  void xattr_entries(std::size_t pos, std::size_t end, std::map<std::string, Bytes>& out,
                     std::size_t limit_entries) {
    for (std::size_t k = 0; pos < end && k < limit_entries; ++k) {
      std::uint8_t name_len = r_.u8(pos);
      std::uint8_t index = r_.u8(pos + 1);
      std::uint16_t vsize = r_.le16(pos + 2);
      std::size_t total = (kXattrEntrySize + name_len + vsize + 3u) & ~std::size_t{3};
      if (total > end - pos) r_.fail(pos, "xattr entry runs past its area");
      const char* prefix = nullptr;
      for (const auto& p : kXattrPrefixes) {
        if (p.index == index) prefix = p.prefix;
      }
      if (!prefix) r_.fail(pos + 1, "unknown xattr name index " + std::to_string(index));
      auto nb = r_.bytes(pos + 4, name_len);
      std::string name = std::string(prefix) + std::string(nb.begin(), nb.end());
      auto vb = r_.bytes(pos + 4 + name_len, vsize);
      if (!out.emplace(name, Bytes(vb.begin(), vb.end())).second)
        r_.fail(pos, "duplicate xattr " + name);
      pos += total;
    }
  }

  std::map<std::string, Bytes> xattrs(const Inode& n) {
    std::map<std::string, Bytes> out;
    if (!n.xattr_size) return out;
    std::size_t base = n.off + isize(n);
    std::size_t shared = r_.u8(base + 4);
    std::size_t body = kXattrHeaderSize + 4 * shared;
    if (body > n.xattr_size) r_.fail(base + 4, "shared xattr count exceeds the xattr area");
    for (std::size_t i = 0; i < shared; ++i) {
      std::uint64_t at = xattr_ + std::uint64_t{r_.le32(base + kXattrHeaderSize + 4 * i)} * 4;
      std::size_t pos = checked(at, kXattrEntrySize, base, "shared xattr");
      std::size_t end = static_cast<std::size_t>(limit_);
      xattr_entries(pos, end, out, 1);
    }
    xattr_entries(base + body, base + n.xattr_size, out, SIZE_MAX);
    return out;
  }

  ErofsListEntry entry(const Inode& n, const std::string& path) {
    ErofsListEntry e;
    e.path = path;
    e.mode = n.mode & 07777;
    e.uid = n.uid;
    e.gid = n.gid;
    e.mtime = n.mtime;
    e.nlink = n.nlink;
    e.size = n.size;
    e.nid = n.nid;
    e.extended = n.extended;
    e.inline_tail = n.layout == kLayoutFlatInline;
    e.xattrs = xattrs(n);
    switch (n.mode & kIfMt) {
      case kIfDir:
        e.type = FsType::kDir;
        break;
      case kIfReg: {
        e.type = FsType::kFile;
        auto it = digests_.find(n.nid);
        if (it == digests_.end()) {
          Hasher h(HashAlg::kSha256);
          for (auto p : data(n)) h.update(p);
          it = digests_.emplace(n.nid, to_hex(h.finish())).first;
        }
        e.sha256 = it->second;
        break;
      }
      case kIfLnk: {
        e.type = FsType::kSymlink;
        if (n.size == 0 || n.size >= kBlockSize) r_.fail(n.off + 8, "bad symlink size");
        Bytes t = gather(n);
        e.link_target.assign(t.begin(), t.end());
        if (e.link_target.find('\0') != std::string::npos) r_.fail(n.off, "NUL in symlink target");
        break;
      }
      default:
        e.type = (n.mode & kIfMt) == kIfChr   ? FsType::kCharDev
                 : (n.mode & kIfMt) == kIfBlk ? FsType::kBlockDev
                 : (n.mode & kIfMt) == kIfIfo ? FsType::kFifo
                                              : FsType::kSocket;
        if (n.size != 0) r_.fail(n.off + 8, "special file with a size");
        if (e.type == FsType::kCharDev || e.type == FsType::kBlockDev) {
          e.rdev_major = dev_major(n.iu);
          e.rdev_minor = dev_minor(n.iu);
        }
    }
    if (e.type == FsType::kDir && n.size == 0) r_.fail(n.off + 8, "empty directory inode");
    return e;
  }

  ByteReader r_;
  ErofsImage img_;
  std::uint64_t limit_ = 0, meta_ = 0, xattr_ = 0;
  std::unordered_map<std::uint64_t, std::string> digests_;
};

}  // namespace

ErofsImage read_erofs(std::span<const std::uint8_t> image, const std::string& source) {
  return Reader(image, source).run();
}

}  // namespace mkguest
