// A strict reader of PE/COFF images (Microsoft PE/COFF specification rev.
// 11, "PE Format"), used by the UKI writer, the Authenticode digest, the
// signer and `inspect`.
//
// Layout read here:
//   0x00 DOS header "MZ", e_lfanew at 0x3c -> "PE\0\0"
//   COFF header (20 bytes): Machine, NumberOfSections, TimeDateStamp,
//     PointerToSymbolTable, NumberOfSymbols, SizeOfOptionalHeader, Characteristics
//   optional header: magic 0x10b (PE32) or 0x20b (PE32+), fixed fields, then
//     NumberOfRvaAndSizes data directories of 8 bytes (RVA, Size)
//   section table: NumberOfSections entries of 40 bytes
// Every field keeps the file offset where it was read, so writers patch the
// original bytes in place instead of re-serialising a model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkguest::pe {

inline constexpr std::uint16_t kMagicPe32 = 0x10b;
inline constexpr std::uint16_t kMagicPe32Plus = 0x20b;
inline constexpr std::size_t kSectionHeaderSize = 40;
inline constexpr std::size_t kDirCertificate = 4;  // data directory index
inline constexpr std::uint16_t kDllNxCompat = 0x0100;

struct SectionHeader {
  std::string name;  // the 8-byte name field up to the first NUL
  std::uint32_t virtual_size = 0;
  std::uint32_t virtual_address = 0;
  std::uint32_t raw_size = 0;     // SizeOfRawData
  std::uint32_t raw_pointer = 0;  // PointerToRawData
  std::uint32_t characteristics = 0;
  std::size_t header_offset = 0;  // file offset of this 40-byte entry
};

struct DataDirectory {
  std::uint32_t address = 0;  // an RVA, except for the certificate table (a file offset)
  std::uint32_t size = 0;
  std::size_t offset = 0;  // file offset of the 8-byte entry
};

struct PeImage {
  std::size_t pe_offset = 0;    // "PE\0\0"
  std::size_t coff_offset = 0;  // COFF header
  std::size_t opt_offset = 0;   // optional header
  std::uint16_t machine = 0;
  std::uint16_t number_of_sections = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t symbol_table_pointer = 0;
  std::uint32_t number_of_symbols = 0;
  // 18 * NumberOfSymbols plus the string table's u32 size when those 4 bytes
  // are in the file (0 when PointerToSymbolTable is 0 or past the end).
  std::uint64_t symbol_table_size = 0;
  std::uint16_t opt_header_size = 0;
  std::uint16_t characteristics = 0;

  bool pe32_plus = false;
  std::uint32_t size_of_code = 0;
  std::uint32_t size_of_initialized_data = 0;
  std::uint32_t entry_point = 0;
  std::uint64_t image_base = 0;
  std::uint32_t section_alignment = 0;
  std::uint32_t file_alignment = 0;
  std::uint32_t size_of_image = 0;
  std::uint32_t size_of_headers = 0;
  std::uint32_t checksum = 0;
  std::uint16_t subsystem = 0;
  std::uint16_t dll_characteristics = 0;

  // File offsets of the fields a writer patches.
  std::size_t size_of_initialized_data_offset = 0;
  std::size_t size_of_image_offset = 0;
  std::size_t size_of_headers_offset = 0;
  std::size_t checksum_offset = 0;
  std::size_t dll_characteristics_offset = 0;
  std::size_t number_of_rva_offset = 0;

  std::vector<DataDirectory> directories;  // NumberOfRvaAndSizes entries
  std::size_t section_table_offset = 0;
  std::vector<SectionHeader> sections;

  // The certificate table directory, or nullptr when there are fewer than 5
  // directories.
  const DataDirectory* certificate_directory() const;
  // The first section with this name, or nullptr.
  const SectionHeader* find(std::string_view name) const;
  // Offset just past the last section header.
  std::size_t section_table_end() const {
    return section_table_offset + kSectionHeaderSize * sections.size();
  }
};

// Parses and checks the headers. Throws InputError "source:0xOFF: error: ..."
// for a truncated or malformed image: bad signatures or magic, no sections
// or more than 96, more than 16 directories, a section table beyond
// SizeOfHeaders or the file, section data or the certificate table outside
// the file, section data overlapping the headers or another section's, a
// COFF symbol + string table overlapping the headers or section data,
// alignments that are not powers of two.
PeImage parse_pe_image(std::span<const std::uint8_t> image, const std::string& source);

// The bytes of a section as a loader maps and systemd-stub measures them:
// min(VirtualSize, SizeOfRawData) bytes from PointerToRawData (VirtualSize
// when SizeOfRawData is 0 is not data in the file and yields nothing).
std::span<const std::uint8_t> section_data(std::span<const std::uint8_t> image,
                                           const SectionHeader& s);

}  // namespace mkguest::pe
