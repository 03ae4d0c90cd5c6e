// The strict IGVM reader (microsoft/igvm igvm_defs, commit e6c3ff1c; the
// layout is in format.h, the rules in docs/igvm.md §2). It checks the fixed
// header, the CRC-32, the TLV framing and padding, the section order, each
// known structure's size, reserved fields, alignment, compatibility masks,
// parameter-area use and every file-data reference, and throws an InputError
// naming the source and the absolute offset of the offending field.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "builder/formats/igvm/format.h"

namespace mkguest::igvm {

enum class Section { kPlatform, kInitialization, kDirective };

// One variable header. Fields a type does not have stay zero.
struct Header {
  std::uint32_t type = 0;  // with the optional bit cleared
  bool optional = false;   // bit 31 was set
  bool known = true;       // false: an optional type this reader skips
  Section section = Section::kPlatform;
  std::uint64_t offset = 0;  // absolute offset of the type field
  std::uint32_t length = 0;
  std::span<const std::uint8_t> body;  // the structure after type and length
  bool has_mask = false;
  std::uint32_t compatibility_mask = 0;
  std::uint64_t gpa = 0;
  std::uint32_t file_offset = 0;
  std::span<const std::uint8_t> data;  // referenced file data; empty when file_offset is 0
  // supported platform
  std::uint8_t platform_type = 0, highest_vtl = 0;
  std::uint16_t platform_version = 0;
  std::uint64_t shared_gpa_boundary = 0;
  // guest policy
  std::uint64_t policy = 0;
  // page data
  std::uint32_t flags = 0;
  std::uint16_t data_type = 0;
  // parameter area (number_of_bytes), required memory, error range, CoRIM data
  std::uint64_t size = 0;
  std::uint32_t parameter_area_index = 0;
  std::uint32_t byte_offset = 0;  // IGVM_VHS_PARAMETER
  std::uint16_t vp_index = 0;
  std::uint8_t vtl = 0;
};

struct File {
  std::uint32_t revision = 1;
  Architecture architecture = Architecture::kX64;
  std::uint32_t page_size = kPageSize;
  std::uint32_t variable_header_offset = 0, variable_header_size = 0;
  std::uint32_t total_file_size = 0, checksum = 0;
  std::vector<Header> platforms, initializations, directives;

  // The compatibility mask of the platform header of `platform_type`.
  std::optional<std::uint32_t> mask_of(std::uint8_t platform_type) const;
  // The platform type whose mask is exactly `mask`.
  std::optional<std::uint8_t> platform_of(std::uint32_t mask) const;
};

File parse_igvm(std::span<const std::uint8_t> bytes, const std::string& source);

// The CRC-32 (IEEE 802.3, as crc32fast and zlib) of the fixed header with a
// zero checksum field followed by the variable header.
std::uint32_t header_checksum(std::span<const std::uint8_t> bytes, std::size_t fixed_size,
                              std::uint32_t var_offset, std::uint32_t var_size);

// "IGVM_VHT_PAGE_DATA" etc.; "unknown" for others.
std::string_view type_name(std::uint32_t type);
// "sev-snp", "tdx", "native", "vsm", "sev", "sev-es", "cca"; "unknown".
std::string_view platform_name(std::uint8_t platform_type);
// "normal", "secrets", "cpuid-data", "cpuid-xf"; "unknown".
std::string_view page_data_type_name(std::uint16_t data_type);

}  // namespace mkguest::igvm
