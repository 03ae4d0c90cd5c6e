// SEV-SNP ID block and ID authentication structure (SNP ABI, SNP_LAUNCH_FINISH),
// as snp-create-id-block (sev-snp-measure 0.0.13) makes them.
//
// ID block, 96 bytes, little-endian:
//   0x00 [48] launch digest  0x30 [16] family ID  0x40 [16] image ID
//   0x50 u32 version (1)     0x54 u32 guest SVN   0x58 u64 policy
// ID auth, 4096 bytes:
//   0x000 u32 ID key algo (1 = ECDSA P-384 with SHA-384)  0x004 u32 author key algo
//   0x040 [512] ID block signature  0x240 [1028] ID public key
//   0x680 [512] ID key signature    0x880 [1028] author public key
// Signature: r, s as 72-byte little-endian integers. Public key: u32 curve
// (2 = P-384), qx, qy as 72-byte little-endian integers.
#pragma once

#include <cstdint>
#include <string>

#include "base/digest.h"

namespace mkguest {

struct SnpIdBlockInputs {
  Bytes launch_digest;  // 48 bytes
  Bytes family_id = Bytes(16, 0);
  Bytes image_id = Bytes(16, 0);
  std::uint32_t version = 1;
  std::uint32_t guest_svn = 0;
  std::uint64_t policy = 0x30000;
};

struct SnpIdBlock {
  Bytes id_block;       // 96 bytes
  Bytes id_auth;        // 4096 bytes
  Bytes id_key_digest;  // SHA-384 of the ID public key structure
  Bytes author_key_digest;
};

Bytes snp_id_block_bytes(const SnpIdBlockInputs& in);

// Signs with two P-384 private keys given as PEM text. `id_key_name` and
// `author_key_name` name them in errors. The signatures use RFC 6979's
// deterministic nonce (base/rfc6979.h), so the same keys and inputs give the
// same id_auth; snp-create-id-block's differ from run to run, in the
// signatures only.
SnpIdBlock snp_make_id_block(const SnpIdBlockInputs& in, const std::string& id_key_pem,
                             const std::string& id_key_name, const std::string& author_key_pem,
                             const std::string& author_key_name);

// Checks an ECDSA P-384 signature in the SNP layout over `data` with the
// public key structure `key` (1028 bytes). For tests and `inspect`.
bool snp_verify_signature(const Bytes& key, const Bytes& sig, const Bytes& data);

}  // namespace mkguest
