// TDVF metadata parsing and MRTD (see tdvf.h; spec docs/specs/tdx.md §2).
#include "firmware/tdvf.h"

#include <array>
#include <cstring>

#include "base/byte_reader.h"
#include "base/byte_writer.h"
#include "base/error.h"
#include "firmware/guid.h"
#include "firmware/ovmf_table.h"

namespace mkguest::tdx {
namespace {

constexpr std::string_view kTdxMetadataGuid = "e9eaf9f3-168e-44d5-a8eb-7f4d8738f6ae";
constexpr std::size_t kPage = 4096;
constexpr std::uint64_t kMaxSectionMemory = 1ull << 32;
// MR.EXTEND hashes 6 KiB of records per 4 KiB page: 4 GiB of it took 34 s.
// A TDVF extends only its firmware volumes (BFV, CFV: a few MiB).
constexpr std::uint64_t kMaxExtendedMemory = 256ull << 20;

// The TDVF descriptor: through the OVMF footer table's TDX entry (a u32
// offset back from the end of the image), or, only when the image has no
// table at all, through the legacy pointer at end - 0x20.
std::uint64_t locate_descriptor(const ByteReader& r, bool* legacy) {
  *legacy = false;
  const OvmfTable table = OvmfTable::parse(r);
  if (const OvmfTableEntry* e = table.find(Guid::parse(ovmf_guid::kTdxMetadata))) {
    const std::uint32_t back = table.u32(*e, 0, "TDX metadata offset");
    if (back > r.size() - 16 || back < 16)
      r.fail(e->offset, "TDX metadata offset " + hex_offset(back) + " points outside the image");
    const std::size_t desc = r.size() - back;
    if (!(Guid::at(r, desc - 16) == Guid::parse(kTdxMetadataGuid)))
      r.fail(desc - 16, "TDX metadata GUID missing before the TDVF descriptor");
    return desc;
  }
  if (table.found()) r.fail(r.size() - 0x30, "OVMF footer table has no TDX metadata entry");
  if (r.size() < 0x20) r.fail(0, "image too small for TDX metadata");
  *legacy = true;
  const std::uint32_t desc = r.le32(r.size() - 0x20);
  if (desc >= r.size())
    r.fail(r.size() - 0x20,
           "legacy TDVF descriptor pointer " + hex_offset(desc) + " points outside the image");
  return desc;
}

}  // namespace

const TdvfSection* TdvfMetadata::find(SectionType t) const {
  for (const auto& s : sections)
    if (s.type == t) return &s;
  return nullptr;
}

std::string_view section_type_name(SectionType t) {
  switch (t) {
    case SectionType::kBfv:
      return "BFV";
    case SectionType::kCfv:
      return "CFV";
    case SectionType::kTdHob:
      return "TD_HOB";
    case SectionType::kTempMem:
      return "TEMP_MEM";
  }
  return "?";
}

TdvfMetadata parse_tdvf(std::span<const std::uint8_t> image, const std::string& source) {
  ByteReader r(image, source);
  TdvfMetadata md;
  md.descriptor_offset = locate_descriptor(r, &md.from_legacy_pointer);
  const std::size_t d = md.descriptor_offset;
  r.need(d, 16, "TDVF descriptor");
  if (r.cstring(d, 4) != "TDVF") r.fail(d, "TDVF descriptor signature is not \"TDVF\"");
  const std::uint32_t length = r.le32(d + 4);
  const std::uint32_t version = r.le32(d + 8);
  const std::uint32_t count = r.le32(d + 12);
  if (version != 1) r.fail(d + 8, "unsupported TDVF descriptor version " + std::to_string(version));
  if (count == 0 || count > 64)
    r.fail(d + 12, "TDVF section count " + std::to_string(count) + " is out of range (1..64)");
  if (length != 16 + 32ull * count)
    r.fail(d + 4, "TDVF descriptor length " + std::to_string(length) + " does not match " +
                      std::to_string(count) + " sections");
  r.need(d, length, "TDVF descriptor sections");
  std::uint64_t total_memory = 0, total_extended = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t e = d + 16 + 32ull * i;
    TdvfSection s;
    s.entry_offset = e;
    s.data_offset = r.le32(e);
    s.raw_size = r.le32(e + 4);
    s.gpa = r.le64(e + 8);
    s.memory_size = r.le64(e + 16);
    const std::uint32_t type = r.le32(e + 24);
    s.attributes = r.le32(e + 28);
    if (type > 3)
      r.fail(e + 24, "TDVF section type " + std::to_string(type) +
                         " is not accepted by QEMU (only BFV, CFV, TD_HOB, TEMP_MEM)");
    s.type = static_cast<SectionType>(type);
    const std::string what = std::string("TDVF ") + std::string(section_type_name(s.type)) +
                             " section " + std::to_string(i);
    if (s.gpa % kPage) r.fail(e + 8, what + ": GPA " + hex_offset(s.gpa) + " is not 4 KiB aligned");
    if (s.memory_size == 0 || s.memory_size % kPage)
      r.fail(e + 16, what + ": memory size " + hex_offset(s.memory_size) +
                         " is not a non-zero multiple of 4 KiB");
    if (s.gpa + s.memory_size < s.gpa) r.fail(e + 8, what + ": GPA range wraps");
    if (s.raw_size > s.memory_size) r.fail(e + 4, what + ": raw size exceeds memory size");
    if (s.attributes & ~(kAttrMrExtend | kAttrPageAug))
      r.fail(e + 28, what + ": unknown attributes " + hex_offset(s.attributes));
    if (s.attributes & kAttrPageAug)
      r.fail(e + 28, what + ": PAGE.AUG is not accepted by QEMU for TDVF sections");
    const bool has_data = s.type == SectionType::kBfv || s.type == SectionType::kCfv;
    if (has_data) {
      if (s.raw_size == 0) r.fail(e + 4, what + ": has no data");
      if (!r.has(s.data_offset, s.raw_size))
        r.fail(e, what + ": data [" + hex_offset(s.data_offset) + ", +" + hex_offset(s.raw_size) +
                      ") lies outside the " + hex_offset(r.size()) + "-byte image");
    } else {
      if (s.raw_size != 0 || s.data_offset != 0) r.fail(e, what + ": must not carry file data");
      if (s.attributes & kAttrMrExtend) r.fail(e + 28, what + ": MR.EXTEND on a memory section");
    }
    // A resource limit: MRTD hashes one record per page, so a hostile
    // descriptor could otherwise declare 2^52 pages. Real TDVF images
    // declare a few MiB (firmware volumes below 4 GiB, TD HOB, temporary memory).
    if (s.attributes & kAttrMrExtend) {
      total_extended += s.memory_size;
      if (s.memory_size > kMaxExtendedMemory || total_extended > kMaxExtendedMemory)
        r.fail(e + 16, what + ": the MR.EXTEND sections declare more than 256 MiB (" +
                           hex_offset(total_extended) +
                           "); a TDVF extends only its firmware volumes");
    }
    total_memory += s.memory_size;
    if (s.memory_size > kMaxSectionMemory || total_memory > kMaxSectionMemory)
      r.fail(e + 16, what + ": the sections declare more than 4 GiB of memory (" +
                         hex_offset(total_memory) + "); no TDVF does");
    md.sections.push_back(s);
  }
  if (!md.find(SectionType::kBfv)) r.fail(d, "TDVF metadata has no BFV section");
  return md;
}

std::string_view page_order_name(PageOrder o) {
  return o == PageOrder::kSinglePass ? "single-pass" : "two-pass";
}

bool parse_page_order(std::string_view s, PageOrder* out) {
  if (s == "single-pass")
    *out = PageOrder::kSinglePass;
  else if (s == "two-pass")
    *out = PageOrder::kTwoPass;
  else
    return false;
  return true;
}

void mrtd_page_add(Hasher& h, std::uint64_t gpa) {
  std::array<std::uint8_t, 128> rec{};
  std::memcpy(rec.data(), "MEM.PAGE.ADD", 12);
  store_le64(rec.data() + 16, gpa);
  h.update(rec);
}

void mrtd_extend(Hasher& h, std::uint64_t gpa, std::span<const std::uint8_t> chunk256) {
  if (chunk256.size() != 256) throw InternalError("MR.EXTEND takes 256-byte chunks");
  std::array<std::uint8_t, 128> rec{};
  std::memcpy(rec.data(), "MR.EXTEND", 9);
  store_le64(rec.data() + 16, gpa);
  h.update(rec);
  h.update(chunk256);
}

Bytes compute_mrtd(std::span<const std::uint8_t> image, const TdvfMetadata& md, PageOrder order) {
  Hasher h(HashAlg::kSha384);
  std::array<std::uint8_t, 256> chunk{};
  auto page_add = [&](std::uint64_t gpa) { mrtd_page_add(h, gpa); };
  auto extend_page = [&](const TdvfSection& s, std::uint64_t page) {
    for (std::uint64_t i = 0; i < kPage / 256; ++i) {
      const std::uint64_t rel = page * kPage + i * 256;
      chunk.fill(0);
      if (rel < s.raw_size) {
        const std::size_t n = std::min<std::uint64_t>(256, s.raw_size - rel);
        std::memcpy(chunk.data(), image.data() + s.data_offset + rel, n);
      }
      mrtd_extend(h, s.gpa + rel, chunk);
    }
  };
  for (const auto& s : md.sections) {
    if ((s.attributes & kAttrMrExtend) &&
        !(s.data_offset <= image.size() && s.raw_size <= image.size() - s.data_offset))
      throw InternalError("TDVF section data outside the image (metadata not from parse_tdvf)");
    const std::uint64_t pages = s.memory_size / kPage;
    const bool extend = s.attributes & kAttrMrExtend;
    if (order == PageOrder::kSinglePass || !extend) {
      for (std::uint64_t p = 0; p < pages; ++p) {
        page_add(s.gpa + p * kPage);
        if (extend) extend_page(s, p);
      }
    } else {
      for (std::uint64_t p = 0; p < pages; ++p) page_add(s.gpa + p * kPage);
      for (std::uint64_t p = 0; p < pages; ++p) extend_page(s, p);
    }
  }
  return h.finish();
}

}  // namespace mkguest::tdx
