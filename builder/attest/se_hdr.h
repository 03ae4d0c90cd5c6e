// The IBM Secure Execution header as Trustee consumes it (hdr.bin): found in
// an SE image the way pvextract-hdr finds it (magic "IBMSecEx" at a page
// boundary from 0x14000 on), or given bare. Layout (all big-endian, see the
// SE header v1 table in docs/attestation.md): 0x00 magic, 0x08 version 0x100,
// 0x0c phs (total size incl. tag), 0x20 nks, 0x28 sea, 0x1a0 key slots of 80
// bytes (phkh = first 32), then the encrypted area (sea bytes), then the
// 16-byte GCM tag = Trustee's se.tag.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"

namespace mkguest::attest {

struct SeHeader {
  std::uint64_t offset = 0;       // where the header starts in the input
  Bytes bytes;                    // the phs bytes of the header (hdr.bin)
  std::string tag;                // hex of the last 16 bytes
  std::vector<std::string> phkh;  // hex of each key slot's host key hash
};

// Throws InputError (naming `source` and the offset) when no valid header is found.
SeHeader find_se_header(std::span<const std::uint8_t> image, const std::string& source);

}  // namespace mkguest::attest
