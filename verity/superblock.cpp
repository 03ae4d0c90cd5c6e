// dm-verity superblock encode and strict parse (spec docs/specs/verity-rootfs.md §1.1).
#include "verity/superblock.h"

#include <cstring>

#include "base/byte_writer.h"
#include "base/error.h"

namespace mkguest::verity {

namespace {
constexpr char kSignature[8] = {'v', 'e', 'r', 'i', 't', 'y', 0, 0};
constexpr std::size_t kSaltOffset = 88;
}  // namespace

Bytes encode_superblock(const VerityParams& p) {
  plan_verity(p);  // validates
  ByteWriter w(kSuperblockSize);
  w.append(std::string_view(kSignature, 8));
  w.le32(1);
  w.le32(p.hash_type);
  w.append(std::span<const std::uint8_t>(p.uuid));
  w.fixed_string(hash_name(p.hash), 32);
  w.le32(p.data_block_size);
  w.le32(p.hash_block_size);
  w.le64(p.data_blocks);
  w.le16(static_cast<std::uint16_t>(p.salt.size()));
  w.zeros(6);
  w.append(p.salt);
  w.zeros(kSuperblockSize - w.size());
  return w.take();
}

VerityParams parse_superblock(const ByteReader& r) {
  r.need(0, kSuperblockSize, "verity superblock");
  auto sig = r.bytes(0, 8);
  if (std::memcmp(sig.data(), kSignature, 8) != 0) r.fail(0, "no verity superblock signature");
  if (std::uint32_t v = r.le32(8); v != 1) {
    r.fail(8, "unsupported verity superblock version " + std::to_string(v));
  }
  VerityParams p;
  p.hash_type = r.le32(12);
  if (p.hash_type > 1) r.fail(12, "unsupported verity hash type " + std::to_string(p.hash_type));
  auto uuid = r.bytes(16, 16);
  std::memcpy(p.uuid.data(), uuid.data(), 16);

  auto alg = r.bytes(32, 32);
  std::size_t len = 0;
  while (len < alg.size() && alg[len]) ++len;
  for (std::size_t i = len; i < alg.size(); ++i) {
    if (alg[i]) r.fail(32 + i, "bytes after the algorithm name's NUL");
  }
  std::string name(reinterpret_cast<const char*>(alg.data()), len);
  if (!parse_verity_hash(name, &p.hash)) r.fail(32, "unsupported verity hash '" + name + "'");

  auto block = [&](std::size_t off, const char* what) {
    std::uint32_t v = r.le32(off);
    if (v < kMinBlockSize || v > kMaxBlockSize || (v & (v - 1))) {
      r.fail(off, std::string("invalid ") + what + " " + std::to_string(v));
    }
    return v;
  };
  p.data_block_size = block(64, "data block size");
  p.hash_block_size = block(68, "hash block size");
  p.data_blocks = r.le64(72);
  if (p.data_blocks == 0) r.fail(72, "zero data blocks");
  if (p.data_blocks > UINT64_MAX / p.data_block_size) r.fail(72, "data size overflows 64 bits");
  std::uint16_t salt_size = r.le16(80);
  if (salt_size > kMaxSaltSize) r.fail(80, "salt size " + std::to_string(salt_size) + " > 256");
  for (std::size_t i = 82; i < kSaltOffset; ++i) {
    if (r.u8(i)) r.fail(i, "non-zero reserved byte");
  }
  auto salt = r.bytes(kSaltOffset, salt_size);
  p.salt.assign(salt.begin(), salt.end());
  for (std::size_t i = kSaltOffset + salt_size; i < kSuperblockSize; ++i) {
    if (r.u8(i)) r.fail(i, "non-zero byte after the salt");
  }
  p.superblock = true;
  p.hash_offset = r.base();
  return p;
}

}  // namespace mkguest::verity
