// Text encodings of bytes and numbers, one of each for the whole tree: hex
// (lower case out, either case in), "0x1a2b" numbers, and base64 (RFC 4648 §4,
// standard alphabet, padded).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkguest {

using Bytes = std::vector<std::uint8_t>;

std::span<const std::uint8_t> as_bytes(std::string_view s);

std::string to_hex(std::span<const std::uint8_t> data);
// Lower- or upper-case hex, even length; returns false on bad input.
bool from_hex(std::string_view hex, Bytes* out);
// Whether `s` is non-empty lower/upper-case hex of even length.
bool is_hex(std::string_view s);

// "0x1a2b": how errors name offsets and the SE values write addresses and flags.
std::string hex_u64(std::uint64_t v);

std::string base64_encode(std::span<const std::uint8_t> data);
std::string base64_encode(std::string_view data);
// Strict: standard alphabet, '=' padding required, no whitespace. False on bad input.
bool base64_decode(std::string_view text, Bytes* out);

}  // namespace mkguest
