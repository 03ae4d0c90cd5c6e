// Geometry planning for the dm-verity tree (spec docs/specs/verity-rootfs.md §1.2).
#include "verity/geometry.h"

#include <algorithm>
#include <limits>

#include "base/error.h"

namespace mkguest::verity {

namespace {

bool is_pow2(std::uint64_t v) { return v && !(v & (v - 1)); }

unsigned floor_log2(std::uint64_t v) {
  unsigned r = 0;
  while (v >>= 1) ++r;
  return r;
}

void check_block_size(const char* what, std::uint32_t v) {
  if (!is_pow2(v) || v < kMinBlockSize || v > kMaxBlockSize) {
    throw ValueError(std::string("invalid ") + what + " " + std::to_string(v) +
                     ": a power of two from 512 to 524288 bytes is required");
  }
}

}  // namespace

bool parse_verity_hash(const std::string& name, HashAlg* out) { return parse_hash_alg(name, out); }

VerityGeometry plan_verity(const VerityParams& p) {
  check_block_size("data block size", p.data_block_size);
  check_block_size("hash block size", p.hash_block_size);
  if (p.hash_type > 1) {
    throw ValueError("invalid verity format " + std::to_string(p.hash_type) + ": 0 or 1");
  }
  if (p.salt.size() > kMaxSaltSize) {
    throw ValueError("verity salt of " + std::to_string(p.salt.size()) +
                     " bytes: at most 256 are allowed");
  }
  if (p.data_blocks == 0) throw ValueError("verity needs at least one data block");
  if (p.hash_offset % 512) {
    throw ValueError("verity hash offset " + std::to_string(p.hash_offset) +
                     " is not a multiple of 512");
  }
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  if (p.data_blocks > max / p.data_block_size) {
    throw ValueError("verity data size overflows 64 bits");
  }

  VerityGeometry g;
  g.params = p;
  g.digest_size = hash_size(p.hash);
  if (g.digest_size > p.hash_block_size) {
    throw ValueError("hash block size is smaller than the digest");
  }
  g.per_block_bits = floor_log2(p.hash_block_size / g.digest_size);
  g.per_block = 1u << g.per_block_bits;
  std::size_t full = 1;
  while (full < g.digest_size) full <<= 1;
  g.slot_size = p.hash_type == 1 ? full : g.digest_size;

  // Levels: the smallest L with (N - 1) >> (b·L) == 0.
  const unsigned b = g.per_block_bits;
  std::size_t levels = 0;
  while (b * levels < 64 && ((p.data_blocks - 1) >> (b * levels))) ++levels;

  const std::uint64_t B = p.hash_block_size;
  g.hash_start_block =
      p.superblock ? (p.hash_offset + kSuperblockSize + B - 1) / B : p.hash_offset / B;
  g.area_offset = p.superblock ? p.hash_offset : g.hash_start_block * B;
  g.levels.resize(levels);
  std::uint64_t pos = g.hash_start_block;
  for (std::size_t i = levels; i-- > 0;) {
    const unsigned shift = b * static_cast<unsigned>(i + 1);
    const std::uint64_t blocks =
        shift >= 64 ? 1 : ((p.data_blocks - 1) >> shift) + 1;  // ceil(N / P^(i+1))
    g.levels[i].first_block = pos;
    g.levels[i].blocks = blocks;
    if (pos + blocks < pos) throw ValueError("verity hash area overflows 64 bits");
    pos += blocks;
    g.tree_blocks += blocks;
  }
  if (pos > max / B) throw ValueError("verity hash area overflows 64 bits");
  g.hash_end = pos * B;
  g.output_size = g.hash_end;
  if (levels == 0 && p.superblock) {
    const std::uint64_t io = std::min<std::uint64_t>(B, 4096);
    g.output_size = (p.hash_offset + kSuperblockSize + io - 1) / io * io;
  }
  return g;
}

std::uint64_t verity_hash_size(const VerityParams& params) {
  VerityParams p = params;
  p.hash_offset = 0;
  VerityGeometry g = plan_verity(p);
  return std::max(g.hash_end, g.output_size);
}

}  // namespace mkguest::verity
