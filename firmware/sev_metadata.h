// The SEV parts of an OVMF image, found through its footer table
// (edk2 OvmfPkg/ResetVector/X64/OvmfSevMetadata.asm, QEMU target/i386/sev.c).
//
// SEV metadata, at file offset len - (u32 from the dc886566 table entry):
//   0x00 "ASEV"  0x04 u32 total_len  0x08 u32 version (1)  0x0c u32 count
//   0x10 count x { u32 gpa, u32 size, u32 type }   types 1, 2, 3, 4, 0x10
// SEV-ES reset block (00f771de): u32 AP reset EIP.
// SEV hashes table (7255371f): u32 gpa, u32 size.
// SVSM info (a789a612): u32 entry offset from the SVSM load address.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/byte_reader.h"
#include "firmware/ovmf_table.h"

namespace mkguest {

enum class SevSectionType : std::uint32_t {
  kSnpSecMem = 1,
  kSnpSecrets = 2,
  kCpuid = 3,
  kSvsmCaa = 4,
  kSnpKernelHashes = 0x10,
};
const char* sev_section_name(SevSectionType t);

struct SevSection {
  std::uint32_t gpa = 0;
  std::uint32_t size = 0;
  SevSectionType type = SevSectionType::kSnpSecMem;
  std::uint64_t offset = 0;  // of the descriptor in the file
};

struct SevFirmware {
  std::uint64_t size = 0;
  OvmfTable table;
  bool has_metadata = false;
  std::vector<SevSection> sections;             // in file order
  std::optional<std::uint32_t> reset_eip;       // SEV-ES AP reset EIP
  std::optional<std::uint32_t> hash_table_gpa;  // SEV hashes table
  std::optional<std::uint32_t> hash_table_size;
  std::optional<std::uint32_t> svsm_entry;  // SVSM info entry offset

  bool has_section(SevSectionType t) const;
};

// Parses strictly: the size must be a multiple of 4096, the metadata must lie
// inside the file, its version must be 1, its count must fit, its types must
// be known and its sections page-aligned. Errors name the offset.
SevFirmware parse_sev_firmware(const ByteReader& image);

}  // namespace mkguest
