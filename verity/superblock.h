// The dm-verity superblock ("verity" header, version 1) as cryptsetup writes
// it (lib/verity/verity.c; spec docs/specs/verity-rootfs.md §1.1). 512 bytes, little-endian:
//   0 signature "verity\0\0" | 8 version=1 (le32) | 12 hash_type (le32)
//   16 uuid[16] | 32 algorithm[32] NUL-padded | 64 data_block_size (le32)
//   68 hash_block_size (le32) | 72 data_blocks (le64) | 80 salt_size (le16)
//   82 pad[6] | 88 salt[256] | 344 pad[168]
#pragma once

#include <cstdint>
#include <span>

#include "base/byte_reader.h"
#include "verity/geometry.h"

namespace mkguest::verity {

// The 512 superblock bytes for these parameters.
Bytes encode_superblock(const VerityParams& params);

// Strict parse of the 512 bytes at reader offset 0: signature, version 1,
// hash type 0/1, a supported lower-case algorithm NUL-padded, power-of-two
// block sizes 512..512 KiB, data_blocks > 0, salt_size <= 256, and every
// padding byte (including the salt tail) zero. Returns the parameters with
// superblock = true and hash_offset = reader.base().
VerityParams parse_superblock(const ByteReader& reader);

}  // namespace mkguest::verity
