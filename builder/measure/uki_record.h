// The record of a UKI (or any PE image) that the manifest's `uki` section
// holds and that `inspect` prints and `verify` compares (docs/manifest.md):
// per section {name, offset, size (VirtualSize), virtual_address, sha256 of
// its file data}, in header order, and the Authenticode digests (sha256,
// sha384). One function each, called by the build, `inspect` and `verify`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "builder/formats/pe/image.h"

namespace mkguest {

// [{name, offset, size, virtual_address, sha256}] of `p`'s sections in `image`.
nlohmann::json uki_section_record(std::span<const std::uint8_t> image, const pe::PeImage& p);

// {sha256, sha384}: the image's Authenticode digests (hex).
nlohmann::json uki_authenticode_record(std::span<const std::uint8_t> image,
                                       const std::string& name);

}  // namespace mkguest
