// dm-verity hash-tree geometry, as cryptsetup 2.6 lays it out
// (lib/verity/verity_hash.c; spec docs/specs/verity-rootfs.md §1.2).
//
// The hash output holds, from `hash_offset`: an optional 512-byte superblock,
// zero padding up to the next hash block, then the tree stored top-down (the
// root block first at `hash_start_block`, the leaf level last). Level 0 holds
// the digests of the data blocks; each digest slot is padded to a power of two
// in format 1 and packed in format 0; a block holds P = 2^floor(log2(B/D))
// slots. Without a superblock the tree starts at floor(hash_offset / B), as
// cryptsetup computes it, even when hash_offset is not a multiple of B.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/digest.h"

namespace mkguest::verity {

inline constexpr std::uint32_t kMinBlockSize = 512;
inline constexpr std::uint32_t kMaxBlockSize = 512 * 1024;
inline constexpr std::size_t kMaxSaltSize = 256;
inline constexpr std::size_t kSuperblockSize = 512;

using Uuid = std::array<std::uint8_t, 16>;

// Everything that determines the tree bytes and the root hash.
struct VerityParams {
  HashAlg hash = HashAlg::kSha256;
  std::uint32_t hash_type = 1;  // 1 = normal, 0 = original Chrome OS format
  std::uint32_t data_block_size = 4096;
  std::uint32_t hash_block_size = 4096;
  std::uint64_t data_blocks = 0;  // N, must be > 0
  Bytes salt;                     // 0..256 bytes
  Uuid uuid{};                    // written in the superblock only
  bool superblock = true;
  std::uint64_t hash_offset = 0;  // bytes into the hash output, a multiple of 512
};

struct VerityLevel {
  std::uint64_t first_block = 0;  // absolute hash-block index in the hash output
  std::uint64_t blocks = 0;
};

// The planned layout: a value computed from VerityParams alone.
struct VerityGeometry {
  VerityParams params;
  std::size_t digest_size = 0;         // D
  std::size_t slot_size = 0;           // bytes per digest slot (padded in format 1)
  std::uint32_t per_block = 0;         // P, digests per hash block
  unsigned per_block_bits = 0;         // log2(P)
  std::vector<VerityLevel> levels;     // [0] = leaf level; empty when N == 1
  std::uint64_t hash_start_block = 0;  // the table's <hash_start_block>
  std::uint64_t tree_blocks = 0;       // Σ level blocks ("Hash blocks:")
  std::uint64_t area_offset = 0;       // first byte written (superblock or tree)
  std::uint64_t hash_end = 0;  // end of the tree: (S + tree_blocks) · B ("Hash device size")
  // Size of the hash output as cryptsetup leaves it: hash_end, except for a
  // single data block with a superblock (no tree), where cryptsetup's header
  // write ends at the next multiple of min(B, 4096) after the superblock.
  std::uint64_t output_size = 0;

  std::uint64_t data_bytes() const { return params.data_blocks * params.data_block_size; }
  std::uint64_t data_sectors() const { return data_bytes() / 512; }
  std::uint64_t area_size() const { return output_size - area_offset; }
  // Byte offset of a level's first block in the hash output.
  std::uint64_t level_offset(std::size_t level) const {
    return levels[level].first_block * params.hash_block_size;
  }
};

// Validates the parameters (throws ValueError naming the bad one) and plans the tree.
VerityGeometry plan_verity(const VerityParams& params);

// The hash algorithms veritysetup accepts that mkguest supports.
bool parse_verity_hash(const std::string& name, HashAlg* out);

// Tree size in bytes (superblock and padding included) for N data blocks at
// hash offset 0: what a hash partition must hold.
std::uint64_t verity_hash_size(const VerityParams& params);

}  // namespace mkguest::verity
