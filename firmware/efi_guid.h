// EFI GUIDs in their on-disk form: the first three fields little-endian, the
// last eight bytes as written ("8be4df61-93ca-11d2-aa0d-00e098032b8c" is
// 61 df e4 8b ca 93 d2 11 aa 0d 00 e0 98 03 2b 8c).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/byte_reader.h"

namespace mkguest::efi {

using EfiGuid = std::array<std::uint8_t, 16>;

// Parses the canonical text form; throws InternalError on a malformed literal
// and UsageError-free InputError is the caller's business for user text.
EfiGuid parse_guid(std::string_view text);
bool try_parse_guid(std::string_view text, EfiGuid* out);
std::string guid_to_string(const EfiGuid& g);
EfiGuid guid_at(const ByteReader& r, std::size_t off);

}  // namespace mkguest::efi
