// PE/COFF Authenticode digest as edk2's MeasureBootPeCoff computes it for
// TCG/CC measurements of loaded images. Spec: docs/specs/tdx.md §5.3 (PE/COFF spec,
// "Calculating the PE Image Hash"). Kept minimal and independent of builder/:
// it reads only the DOS header, the COFF header, the optional header's
// checksum/certificate fields and the section table.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"

namespace mkguest::pe {

struct PeSection {
  std::string name;  // up to 8 bytes, NUL-trimmed
  std::uint32_t virtual_size = 0;
  std::uint32_t raw_size = 0;
  std::uint32_t raw_pointer = 0;
};

struct PeLayout {
  std::size_t checksum_offset = 0;
  std::size_t certdir_offset = 0;  // 0 when NumberOfRvaAndSizes <= 4
  std::uint32_t cert_size = 0;
  std::uint32_t size_of_headers = 0;
  std::vector<PeSection> sections;
};

PeLayout parse_pe(std::span<const std::uint8_t> image, const std::string& source);
// Authenticode digest (no padding to 8; trailing bytes before the
// certificate table are included).
Bytes authenticode_digest(std::span<const std::uint8_t> image, const std::string& source,
                          HashAlg alg = HashAlg::kSha384);
// The bytes of a named section (raw data, clipped to VirtualSize when smaller).
std::span<const std::uint8_t> section_bytes(std::span<const std::uint8_t> image,
                                            const PeLayout& layout, const PeSection& s);

}  // namespace mkguest::pe
