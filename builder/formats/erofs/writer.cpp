// Emission of an uncompressed EROFS image from its plan (builder/formats/erofs/plan.h;
// on-disk layout in builder/formats/erofs/format.h). The metadata area (superblock,
// inodes, inline xattrs and tails) goes out through a 4 MiB window, then
// the data blocks are streamed in path order; host files are read here, in
// 1 MiB chunks, so memory stays bounded by the metadata size.
#include "builder/formats/erofs/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/byte_writer.h"
#include "base/error.h"
#include "builder/formats/erofs/format.h"
#include "builder/formats/erofs/plan.h"

namespace mkguest {
namespace erofs {

std::uint32_t crc32c(std::uint32_t crc, std::span<const std::uint8_t> data) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
      t[i] = c;
    }
    return t;
  }();
  for (std::uint8_t b : data) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace erofs

using namespace erofs;

namespace {

void put_inode(std::uint8_t* p, const Node& n) {
  const FsEntry& e = *n.entry;
  std::uint16_t format =
      static_cast<std::uint16_t>((n.extended ? kInodeExtended : kInodeCompact) | (n.layout << 1));
  std::uint16_t icount =
      n.xattr_body.empty()
          ? 0
          : static_cast<std::uint16_t>((n.xattr_body.size() - kXattrHeaderSize) / 4 + 1);
  std::uint32_t iu = n.rdev ? n.rdev : n.blkaddr;
  store_le16(p, format);
  store_le16(p + 2, icount);
  store_le16(p + 4, static_cast<std::uint16_t>(n.mode));
  if (n.extended) {
    store_le64(p + 8, n.size);
    store_le32(p + 16, iu);
    store_le32(p + 20, n.ino);
    store_le32(p + 24, e.uid);
    store_le32(p + 28, e.gid);
    store_le64(p + 32, static_cast<std::uint64_t>(n.mtime));
    store_le32(p + 44, n.nlink);
  } else {
    store_le16(p + 6, static_cast<std::uint16_t>(n.nlink));
    store_le32(p + 8, static_cast<std::uint32_t>(n.size));
    store_le32(p + 16, iu);
    store_le32(p + 20, n.ino);
    store_le16(p + 24, static_cast<std::uint16_t>(e.uid));
    store_le16(p + 26, static_cast<std::uint16_t>(e.gid));
  }
}

}  // namespace

ErofsStats write_erofs(const FsTree& tree, const ErofsOptions& opt, ByteSink& out) {
  ErofsPlan plan = plan_erofs(tree, opt.build_time);
  ErofsStats stats;
  stats.inodes = plan.nodes.size();
  stats.blocks = plan.blocks;

  // The metadata area (superblock, inodes, inline xattrs and tails) goes out
  // through a window of a few MiB: nodes lie in increasing position order,
  // so everything before a node's block is final once the node is reached.
  // Inline tails alone can be a large share of a tree with many small files.
  const std::uint64_t meta_bytes = plan.data_start * kBlockSize;
  constexpr std::uint64_t kWindow = std::uint64_t{4} << 20;
  Bytes win(kBlockSize, 0);  // bytes [win_start, win_start + win.size())
  std::uint64_t win_start = 0;
  std::uint8_t* sb = win.data() + kSuperOffset;
  store_le32(sb + kSbMagic, kMagic);
  store_le32(sb + kSbFeatureCompat, kCompatSbChksum | kCompatMtime);
  sb[kSbBlkszBits] = kBlockBits;
  store_le16(sb + kSbRootNid, static_cast<std::uint16_t>(plan.nodes[0].nid()));
  store_le64(sb + kSbInos, plan.nodes.size());
  store_le64(sb + kSbBuildTime,
             static_cast<std::uint64_t>(std::max<std::int64_t>(0, opt.build_time)));
  store_le32(sb + kSbBlocks, static_cast<std::uint32_t>(plan.blocks));
  std::copy(opt.uuid.begin(), opt.uuid.end(), sb + kSbUuid);
  // Writes [win_start, limit) (a block boundary); block 0 gets its checksum
  // first (it covers the inodes that share the superblock's block).
  auto flush_to = [&](std::uint64_t limit) {
    std::size_t len = static_cast<std::size_t>(limit - win_start);
    if (win.size() < len) win.resize(len, 0);
    if (win_start == 0) {
      std::uint8_t* s = win.data() + kSuperOffset;
      std::uint32_t crc =
          crc32c(0xffffffffu, std::span<const std::uint8_t>(s, kBlockSize - kSuperOffset));
      store_le32(s + kSbChecksum, crc);
    }
    out.write(std::span<const std::uint8_t>(win.data(), len));
    win.erase(win.begin(), win.begin() + static_cast<std::ptrdiff_t>(len));
    win_start = limit;
  };
  for (const Node& n : plan.nodes) {
    std::size_t tail = n.tail_size();
    std::size_t record = n.inode_size() + n.xattr_body.size() + tail;
    std::uint64_t block = n.pos / kBlockSize * kBlockSize;
    if (n.pos + record - win_start > kWindow && block > win_start) flush_to(block);
    if (win.size() < n.pos + record - win_start) {
      win.resize(static_cast<std::size_t>(n.pos + record - win_start), 0);
    }
    std::uint8_t* p = win.data() + (n.pos - win_start);
    put_inode(p, n);
    std::copy(n.xattr_body.begin(), n.xattr_body.end(), p + n.inode_size());
    stats.extended_inodes += n.extended;
    if (tail == 0) continue;
    stats.inline_tails++;
    std::span<std::uint8_t> dst(p + n.inode_size() + n.xattr_body.size(), tail);
    const FsEntry& e = *n.entry;
    if (e.type == FsType::kDir) {
      Bytes last = dir_block(plan, n, n.dir_block_start.size() - 1);
      std::copy(last.begin(), last.end(), dst.begin());
    } else if (e.type == FsType::kSymlink) {
      std::copy(e.link_target.begin(), e.link_target.end(), dst.begin());
    } else {
      ContentReader(e.content, e.path).read(n.size - tail, dst);
    }
  }
  flush_to(meta_bytes);

  // Data blocks, in the order the plan assigned them.
  Bytes buf(std::size_t{1} << 20);
  for (const Node& n : plan.nodes) {
    if (n.full_blocks == 0) continue;
    const FsEntry& e = *n.entry;
    std::uint64_t total = n.full_blocks * kBlockSize;
    if (e.type == FsType::kDir) {
      for (std::size_t b = 0; b < n.full_blocks; ++b) {
        Bytes blk = dir_block(plan, n, b);
        blk.resize(kBlockSize, 0);
        out.write(blk);
      }
    } else if (e.type == FsType::kSymlink) {
      Bytes blk(kBlockSize, 0);
      std::copy(e.link_target.begin(), e.link_target.end(), blk.begin());
      out.write(blk);
    } else {
      ContentReader reader(e.content, e.path);
      for (std::uint64_t off = 0; off < total; off += buf.size()) {
        std::size_t len =
            static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), total - off));
        std::size_t have =
            static_cast<std::size_t>(std::min<std::uint64_t>(len, n.size > off ? n.size - off : 0));
        reader.read(off, std::span<std::uint8_t>(buf.data(), have));
        std::fill(buf.begin() + static_cast<std::ptrdiff_t>(have),
                  buf.begin() + static_cast<std::ptrdiff_t>(len), 0);
        out.write(std::span<const std::uint8_t>(buf.data(), len));
      }
    }
  }
  return stats;
}

std::array<std::uint8_t, 16> erofs_uuid_from_seed(std::string_view seed) {
  std::string input("mkguest erofs uuid");
  input.push_back('\0');
  input.append(seed);
  Bytes h = digest(HashAlg::kSha256, input);
  std::array<std::uint8_t, 16> u{};
  std::copy_n(h.begin(), 16, u.begin());
  u[6] = static_cast<std::uint8_t>((u[6] & 0x0f) | 0x40);
  u[8] = static_cast<std::uint8_t>((u[8] & 0x3f) | 0x80);
  return u;
}

bool parse_uuid(std::string_view text, std::array<std::uint8_t, 16>* out) {
  if (text.size() != 36) return false;
  std::string hex;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (text[i] == '-')) return false;
    if (!dash) hex.push_back(text[i]);
  }
  Bytes b;
  if (!from_hex(hex, &b) || b.size() != 16) return false;
  std::copy(b.begin(), b.end(), out->begin());
  return true;
}

}  // namespace mkguest
