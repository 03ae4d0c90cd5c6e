// Intel TDX: the TDVF metadata of an OVMF/TDVF image and the MRTD it yields.
// Spec: the TDVF design guide and QEMU's hw/i386/tdvf.c.
// Layout: the OVMF GUIDed footer table (walked back from image end - 0x20)
// holds the entry e47a6535-... whose u32 is the distance of the "TDVF"
// descriptor from the image end; the descriptor is preceded by the TDX
// metadata GUID. Descriptor (16 B): "TDVF", u32 length, u32 version (1),
// u32 count; then count x 32-byte sections (u32 data offset, u32 raw size,
// u64 GPA, u64 memory size, u32 type, u32 attributes).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"

namespace mkguest::tdx {

enum class SectionType : std::uint32_t { kBfv = 0, kCfv = 1, kTdHob = 2, kTempMem = 3 };

constexpr std::uint32_t kAttrMrExtend = 1u << 0;
constexpr std::uint32_t kAttrPageAug = 1u << 1;

struct TdvfSection {
  std::uint64_t entry_offset = 0;  // file offset of this 32-byte entry
  std::uint32_t data_offset = 0;
  std::uint32_t raw_size = 0;
  std::uint64_t gpa = 0;
  std::uint64_t memory_size = 0;
  SectionType type = SectionType::kBfv;
  std::uint32_t attributes = 0;
};

struct TdvfMetadata {
  std::uint64_t descriptor_offset = 0;
  bool from_legacy_pointer = false;   // located via the u32 at end - 0x20
  std::vector<TdvfSection> sections;  // in metadata order
  const TdvfSection* find(SectionType t) const;
};

std::string_view section_type_name(SectionType t);

// Finds and parses the TDX metadata strictly. Errors name `source` and the
// absolute offset of the offending field.
TdvfMetadata parse_tdvf(std::span<const std::uint8_t> image, const std::string& source);

enum class PageOrder { kSinglePass, kTwoPass };
std::string_view page_order_name(PageOrder o);  // "single-pass" / "two-pass"
bool parse_page_order(std::string_view s, PageOrder* out);

// MRTD: one running SHA-384 over the 128-byte MEM.PAGE.ADD / MR.EXTEND records
// (and 256-byte chunks) the host emits while building the TD.
Bytes compute_mrtd(std::span<const std::uint8_t> image, const TdvfMetadata& md, PageOrder order);

// The MRTD records, into a running SHA-384 (the primitives compute_mrtd and
// IGVM's MRTD, builder/measure/igvm, are built from): the 128-byte
// MEM.PAGE.ADD record of a page, and the 128-byte MR.EXTEND record of a
// 256-byte chunk followed by the chunk.
void mrtd_page_add(Hasher& h, std::uint64_t gpa);
void mrtd_extend(Hasher& h, std::uint64_t gpa, std::span<const std::uint8_t> chunk256);

}  // namespace mkguest::tdx
