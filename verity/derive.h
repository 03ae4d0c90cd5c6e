// Deterministic verity salt and UUID, and UUID text forms (docs/verity.md).
//
//   block_i = SHA-256(label ‖ 0x00 ‖ be32(i) ‖ be64(|seed|) ‖ seed ‖ be64(|context|) ‖ context)
//   salt    = the first `size` bytes of block_0 ‖ block_1 ‖ ...,   label "mkguest verity salt"
//   uuid    = block_0[0..16) with label "mkguest verity uuid", then the RFC 4122
//             version (4) and variant bits set, as systemd does for derived IDs.
// `seed` is the recipe's seed (or --seed); `context` names the content (the
// pipeline passes a digest of the data image; the CLI passes the parameters).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "verity/geometry.h"

namespace mkguest::verity {

Bytes derive_salt(std::string_view seed, std::span<const std::uint8_t> context, std::size_t size);
Uuid derive_uuid(std::string_view seed, std::span<const std::uint8_t> context);

// "12345678-1234-5678-9abc-def012345678" (bytes in order, lower case).
std::string format_uuid(const Uuid& uuid);
// Accepts the dashed form (any case) or 32 hex digits.
std::optional<Uuid> parse_uuid(std::string_view text);

}  // namespace mkguest::verity
