// Layout planning for uncompressed EROFS images (builder/formats/erofs/format.h).
// Rules (docs/erofs.md): inodes in bytewise path order starting right after
// the superblock (root nid 36); an inode record (inode + xattrs + inline tail)
// never crosses a block boundary when it fits in one block; the last partial
// block of a file, directory or symlink is inlined when the record fits in a
// block, else it gets a block of its own; data blocks follow the metadata in
// path order.
#include "builder/formats/erofs/plan.h"

#include <algorithm>
#include <unordered_map>

#include "base/byte_writer.h"
#include "base/error.h"
#include "builder/formats/erofs/format.h"

namespace mkguest::erofs {
namespace {

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

std::uint32_t type_bits(FsType t) {
  switch (t) {
    case FsType::kFile:
      return kIfReg;
    case FsType::kDir:
      return kIfDir;
    case FsType::kSymlink:
      return kIfLnk;
    case FsType::kCharDev:
      return kIfChr;
    case FsType::kBlockDev:
      return kIfBlk;
    case FsType::kFifo:
      return kIfIfo;
    case FsType::kSocket:
      return kIfSock;
    case FsType::kHardlink:
      break;
  }
  throw InternalError("erofs: unexpected entry type");
}

std::uint8_t file_type(FsType t) {
  switch (t) {
    case FsType::kFile:
      return kFtReg;
    case FsType::kDir:
      return kFtDir;
    case FsType::kSymlink:
      return kFtSymlink;
    case FsType::kCharDev:
      return kFtChr;
    case FsType::kBlockDev:
      return kFtBlk;
    case FsType::kFifo:
      return kFtFifo;
    case FsType::kSocket:
      return kFtSock;
    case FsType::kHardlink:
      break;
  }
  return kFtUnknown;
}

std::string where(const FsEntry& e) { return e.origin.empty() ? std::string("erofs") : e.origin; }

Bytes xattr_body(const FsEntry& e) {
  if (e.xattrs.empty()) return {};
  ByteWriter w;
  w.zeros(kXattrHeaderSize);  // h_reserved, h_shared_count = 0, h_reserved2
  for (const auto& [name, value] : e.xattrs) {
    const XattrPrefix* best = nullptr;
    for (const auto& p : kXattrPrefixes) {
      std::string_view pre(p.prefix);
      bool exact_only = pre.back() != '.';
      if (exact_only ? name == pre : name.size() > pre.size() && name.starts_with(pre)) best = &p;
    }
    if (!best) {
      throw file_error(where(e), "'" + e.path + "': xattr '" + name +
                                     "' has no EROFS name prefix (user., trusted., security., "
                                     "system.posix_acl_*)");
    }
    std::string_view suffix = std::string_view(name).substr(std::string_view(best->prefix).size());
    if (suffix.size() > kNameMax || value.size() > 0xffff) {
      throw file_error(where(e), "'" + e.path + "': xattr '" + name + "' is too large for EROFS");
    }
    w.u8(static_cast<std::uint8_t>(suffix.size()));
    w.u8(best->index);
    w.le16(static_cast<std::uint16_t>(value.size()));
    w.append(suffix);
    w.append(value);
    w.align(kXattrEntrySize);
  }
  if ((w.size() - kXattrHeaderSize) / 4 + 1 > 0xffff) {
    throw file_error(where(e), "'" + e.path + "': xattrs too large for EROFS");
  }
  return w.take();
}

}  // namespace

std::size_t Node::inode_size() const { return extended ? kExtendedInodeSize : kCompactInodeSize; }

std::size_t Node::tail_size() const {
  return layout == kLayoutFlatInline ? static_cast<std::size_t>(size % kBlockSize) : 0;
}

ErofsPlan plan_erofs(const FsTree& tree, std::int64_t build_time) {
  ErofsPlan plan;
  static const FsEntry kDefaultRoot = [] {
    FsEntry r;
    r.path = "";
    r.type = FsType::kDir;
    r.mode = 0755;
    return r;
  }();
  std::unordered_map<std::string_view, std::size_t> index;
  auto add_node = [&](const FsEntry& e) {
    Node n;
    n.entry = &e;
    n.mode = type_bits(e.type) | (e.mode & 07777);
    index.emplace(e.path, plan.nodes.size());
    plan.nodes.push_back(std::move(n));
  };
  if (!tree.find("")) add_node(kDefaultRoot);
  for (const auto& [path, e] : tree.entries()) {
    if (e.type != FsType::kHardlink) add_node(e);
  }
  if (plan.nodes.empty() || plan.nodes[0].entry->type != FsType::kDir) {
    throw file_error("erofs", "the root of the tree is not a directory");
  }
  // Hard links become further names of their target's inode.
  for (const auto& [path, e] : tree.entries()) {
    if (e.type != FsType::kHardlink) continue;
    auto it = index.find(e.link_target);
    if (it == index.end() || plan.nodes[it->second].entry->type != FsType::kFile) {
      throw file_error(where(e), "'" + path + "': hard link to '" + e.link_target +
                                     "', which is not a regular file");
    }
    plan.nodes[it->second].nlink++;
    index.emplace(e.path, it->second);
  }
  // Directory entries.
  for (const auto& [path, e] : tree.entries()) {
    if (path.empty()) continue;
    auto slash = path.rfind('/');
    std::string_view parent =
        slash == std::string::npos ? std::string_view() : std::string_view(path).substr(0, slash);
    std::string_view name =
        std::string_view(path).substr(slash == std::string::npos ? 0 : slash + 1);
    if (name.empty() || name.size() > kNameMax) {
      throw file_error(where(e), "'" + path + "': name longer than 255 bytes");
    }
    auto pit = index.find(parent);
    if (pit == index.end() || plan.nodes[pit->second].entry->type != FsType::kDir) {
      throw file_error(where(e), "'" + path + "': parent is not a directory");
    }
    std::size_t child = index.at(path);
    plan.nodes[pit->second].dirents.push_back(
        {std::string(name), child, file_type(plan.nodes[child].entry->type)});
  }
  for (std::size_t i = 0; i < plan.nodes.size(); ++i) {
    Node& n = plan.nodes[i];
    const FsEntry& e = *n.entry;
    n.ino = static_cast<std::uint32_t>(i + 1);
    n.mtime = std::max<std::int64_t>(0, std::min(e.mtime, build_time));
    n.xattr_body = xattr_body(e);
    switch (e.type) {
      case FsType::kDir: {
        std::uint32_t subdirs = 0;
        for (const auto& d : n.dirents) subdirs += d.file_type == kFtDir;
        n.nlink = 2 + subdirs;
        n.dirents.push_back({".", i, kFtDir});
        n.dirents.push_back({"..", i, kFtDir});  // parent fixed below
        std::sort(n.dirents.begin(), n.dirents.end(),
                  [](const Dirent& a, const Dirent& b) { return a.name < b.name; });
        std::size_t used = 0;
        for (std::size_t k = 0; k < n.dirents.size(); ++k) {
          std::size_t need = kDirentSize + n.dirents[k].name.size();
          if (k == 0 || used + need > kBlockSize) {
            if (k) n.size += kBlockSize;
            n.dir_block_start.push_back(k);
            used = 0;
          }
          used += need;
        }
        n.size += used;
        break;
      }
      case FsType::kFile:
        n.size = e.content.size;
        break;
      case FsType::kSymlink:
        if (e.link_target.empty() || e.link_target.size() >= kBlockSize) {
          throw file_error(where(e), "'" + e.path + "': symlink target is empty or too long");
        }
        n.size = e.link_target.size();
        break;
      case FsType::kCharDev:
      case FsType::kBlockDev:
        if (e.rdev_major > 0xfff || e.rdev_minor > 0xfffff) {
          throw file_error(where(e), "'" + e.path + "': device number too large");
        }
        n.rdev = encode_dev(e.rdev_major, e.rdev_minor);
        break;
      default:
        break;
    }
  }
  // ".." entries: the parent of each directory (the root is its own parent).
  for (std::size_t i = 0; i < plan.nodes.size(); ++i) {
    for (const Dirent& d : plan.nodes[i].dirents) {
      if (d.file_type != kFtDir || d.name == "." || d.name == "..") continue;
      for (Dirent& dd : plan.nodes[d.node].dirents) {
        if (dd.name == "..") dd.node = i;
      }
    }
  }
  // Inode form, data layout and metadata slot.
  std::uint64_t pos = kSuperOffset + kSuperSize;
  for (Node& n : plan.nodes) {
    n.extended = n.entry->uid > 0xffff || n.entry->gid > 0xffff || n.size > 0xffffffffu ||
                 n.nlink > 0xffff || n.mtime != std::max<std::int64_t>(0, build_time);
    std::size_t head = n.inode_size() + n.xattr_body.size();
    std::size_t tail = static_cast<std::size_t>(n.size % kBlockSize);
    bool has_data =
        n.size > 0 && (n.entry->type == FsType::kFile || n.entry->type == FsType::kDir ||
                       n.entry->type == FsType::kSymlink);
    n.layout =
        has_data && tail > 0 && head + tail <= kBlockSize ? kLayoutFlatInline : kLayoutFlatPlain;
    std::size_t record = head + n.tail_size();
    pos = align_up(pos, kSlotSize);
    if (record <= kBlockSize && pos % kBlockSize + record > kBlockSize) {
      pos = align_up(pos, kBlockSize);
    }
    n.pos = pos;
    pos += record;
    if (has_data) {
      n.full_blocks = n.layout == kLayoutFlatInline ? n.size / kBlockSize
                                                    : (n.size + kBlockSize - 1) / kBlockSize;
    }
  }
  plan.meta_end = pos;
  plan.data_start = align_up(pos, kBlockSize) / kBlockSize;
  std::uint64_t next = plan.data_start;
  for (Node& n : plan.nodes) {
    if (n.full_blocks == 0) continue;
    n.blkaddr = static_cast<std::uint32_t>(next);
    next += n.full_blocks;
    if (next > 0xffffffffu) throw file_error("erofs", "the tree needs more than 2^32 blocks");
  }
  plan.blocks = next;
  if (plan.nodes[0].nid() > 0xffff) throw InternalError("erofs: root nid out of range");
  return plan;
}

Bytes dir_block(const ErofsPlan& plan, const Node& n, std::size_t b) {
  std::size_t first = n.dir_block_start.at(b);
  std::size_t end = b + 1 < n.dir_block_start.size() ? n.dir_block_start[b + 1] : n.dirents.size();
  bool last = b + 1 == n.dir_block_start.size();
  std::size_t len = last ? static_cast<std::size_t>(n.size - b * kBlockSize) : kBlockSize;
  Bytes out(len, 0);
  std::size_t nameoff = (end - first) * kDirentSize;
  for (std::size_t k = first; k < end; ++k) {
    const Dirent& d = n.dirents[k];
    std::uint8_t* p = out.data() + (k - first) * kDirentSize;
    store_le64(p, plan.nodes[d.node].nid());
    store_le16(p + 8, static_cast<std::uint16_t>(nameoff));
    p[10] = d.file_type;
    std::copy(d.name.begin(), d.name.end(), out.begin() + static_cast<std::ptrdiff_t>(nameoff));
    nameoff += d.name.size();
  }
  return out;
}

}  // namespace mkguest::erofs
