// EROFS on-disk constants shared by the writer and the reader (Linux
// fs/erofs/erofs_fs.h; erofs-utils 1.5 include/erofs_fs.h). All fields are
// little-endian. Layout of an uncompressed image as mkguest writes it:
//   block 0: superblock at byte 1024 (128 bytes), then inodes (meta_blkaddr 0)
//   inodes: 32-byte slots (nid = byte offset / 32), each followed by its inline
//           xattr body and, for the inline-tail layout, the last partial block
//   data:   whole blocks of files, directories and symlinks, in path order
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace mkguest::erofs {

inline constexpr std::uint32_t kMagic = 0xE0F5E1E2;
inline constexpr std::size_t kSuperOffset = 1024;
inline constexpr std::size_t kSuperSize = 128;
inline constexpr unsigned kBlockBits = 12;
inline constexpr std::size_t kBlockSize = std::size_t{1} << kBlockBits;
inline constexpr std::size_t kSlotSize = 32;  // nid unit
inline constexpr std::size_t kCompactInodeSize = 32;
inline constexpr std::size_t kExtendedInodeSize = 64;
inline constexpr std::size_t kDirentSize = 12;
inline constexpr std::size_t kXattrHeaderSize = 12;
inline constexpr std::size_t kXattrEntrySize = 4;
inline constexpr std::size_t kNameMax = 255;

// feature_compat bits (mkfs.erofs 1.5 sets both for every image).
inline constexpr std::uint32_t kCompatSbChksum = 0x1;
inline constexpr std::uint32_t kCompatMtime = 0x2;

// Superblock field offsets.
inline constexpr std::size_t kSbMagic = 0, kSbChecksum = 4, kSbFeatureCompat = 8, kSbBlkszBits = 12,
                             kSbExtSlots = 13, kSbRootNid = 14, kSbInos = 16, kSbBuildTime = 24,
                             kSbBuildTimeNsec = 32, kSbBlocks = 36, kSbMetaBlkaddr = 40,
                             kSbXattrBlkaddr = 44, kSbUuid = 48, kSbVolumeName = 64,
                             kSbFeatureIncompat = 80;

// i_format: bit 0 inode version, bits 1-3 data layout.
inline constexpr std::uint16_t kInodeCompact = 0, kInodeExtended = 1;
inline constexpr std::uint16_t kLayoutFlatPlain = 0, kLayoutFlatInline = 2;

// Directory entry file types.
enum FileType : std::uint8_t {
  kFtUnknown = 0,
  kFtReg = 1,
  kFtDir = 2,
  kFtChr = 3,
  kFtBlk = 4,
  kFtFifo = 5,
  kFtSock = 6,
  kFtSymlink = 7,
};

// POSIX file-type bits in i_mode.
inline constexpr std::uint32_t kIfMt = 0170000, kIfSock = 0140000, kIfLnk = 0120000,
                               kIfReg = 0100000, kIfBlk = 0060000, kIfDir = 0040000,
                               kIfChr = 0020000, kIfIfo = 0010000;

// xattr name prefixes by e_name_index. An empty-suffix match is exact
// (the POSIX ACL names).
struct XattrPrefix {
  std::uint8_t index;
  const char* prefix;
};
inline constexpr XattrPrefix kXattrPrefixes[] = {
    {1, "user."},
    {2, "system.posix_acl_access"},
    {3, "system.posix_acl_default"},
    {4, "trusted."},
    {6, "security."},
};

// CRC32C (Castagnoli, reflected) as erofs computes it: seed ~0, no final
// inversion. The superblock checksum covers bytes [1024, block size) of block
// 0 with the checksum field zeroed.
std::uint32_t crc32c(std::uint32_t crc, std::span<const std::uint8_t> data);

// Linux new_encode_dev / new_decode_dev (the i_u.rdev field).
inline std::uint32_t encode_dev(std::uint32_t major, std::uint32_t minor) {
  return (minor & 0xffu) | (major << 8) | ((minor & ~0xffu) << 12);
}
inline std::uint32_t dev_major(std::uint32_t dev) { return (dev & 0xfff00u) >> 8; }
inline std::uint32_t dev_minor(std::uint32_t dev) {
  return (dev & 0xffu) | ((dev >> 12) & 0xfff00u);
}

}  // namespace mkguest::erofs
