// The IGVM variable header structures (microsoft/igvm igvm_defs/src/lib.rs,
// commit e6c3ff1c), each read field by field at its absolute offset:
//   SUPPORTED_PLATFORM  u32 mask, u8 highest_vtl, u8 platform, u16 version, u64 shared boundary
//   GUEST_POLICY        u64 policy, u32 mask, u32 reserved
//   RELOCATABLE_REGION  u32 mask, u16 vp, u8 vtl, u8 flags, u64 align, gpa, size, min, max
//   PAGE_TABLE_RELOC    u32 mask, u16 vp, u8 vtl, u8 reserved, u64 gpa, size, used_size
//   CORIM_DOC/SIG       u32 mask, u32 file_offset, u32 size, u32 reserved
//   CCA_POLICY          u32 mask, u32 reserved, u64 zeroes, u64 ones, u8 hash, u8 lfa, 6 reserved
//   PARAMETER_AREA      u64 number_of_bytes, u32 index, u32 file_offset
//   PAGE_DATA           u64 gpa, u32 mask, u32 file_offset, u32 flags, u16 type, u16 reserved
//   PARAMETER_INSERT    u64 gpa, u32 mask, u32 index
//   VP_CONTEXT          u64 gpa, u32 mask, u32 file_offset, u16 vp, u16 reserved (20 bytes)
//   REQUIRED_MEMORY     u64 gpa, u32 mask, u32 bytes, u32 flags, u32 reserved
//   ERROR_RANGE         u64 gpa, u32 mask, u32 size
//   SNP_ID_BLOCK        u32 mask, u8 author_key_enabled, 3 reserved, ld[48], ... (696 bytes)
//   VBS_MEASUREMENT     u32 mask, ... (864 bytes)
//   VP_COUNT ... ENVIRONMENT_INFO (IGVM_VHS_PARAMETER)  u32 index, u32 byte_offset
#include <bit>

#include "base/error.h"
#include "builder/formats/igvm/headers.h"

namespace mkguest::igvm {

std::string_view type_name(std::uint32_t t) {
  switch (t) {
    case kVhtSupportedPlatform:
      return "IGVM_VHT_SUPPORTED_PLATFORM";
    case kVhtGuestPolicy:
      return "IGVM_VHT_GUEST_POLICY";
    case kVhtRelocatableRegion:
      return "IGVM_VHT_RELOCATABLE_REGION";
    case kVhtPageTableRelocation:
      return "IGVM_VHT_PAGE_TABLE_RELOCATION_REGION";
    case kVhtCorimDocument:
      return "IGVM_VHT_CORIM_DOCUMENT";
    case kVhtCorimSignature:
      return "IGVM_VHT_CORIM_SIGNATURE";
    case kVhtCcaPolicy:
      return "IGVM_VHT_CCA_POLICY";
    case kVhtParameterArea:
      return "IGVM_VHT_PARAMETER_AREA";
    case kVhtPageData:
      return "IGVM_VHT_PAGE_DATA";
    case kVhtParameterInsert:
      return "IGVM_VHT_PARAMETER_INSERT";
    case kVhtVpContext:
      return "IGVM_VHT_VP_CONTEXT";
    case kVhtRequiredMemory:
      return "IGVM_VHT_REQUIRED_MEMORY";
    case kVhtReservedDoNotUse:
      return "RESERVED_DO_NOT_USE";
    case kVhtVpCount:
      return "IGVM_VHT_VP_COUNT_PARAMETER";
    case kVhtSrat:
      return "IGVM_VHT_SRAT";
    case kVhtMadt:
      return "IGVM_VHT_MADT";
    case kVhtMmioRanges:
      return "IGVM_VHT_MMIO_RANGES";
    case kVhtSnpIdBlock:
      return "IGVM_VHT_SNP_ID_BLOCK";
    case kVhtMemoryMap:
      return "IGVM_VHT_MEMORY_MAP";
    case kVhtErrorRange:
      return "IGVM_VHT_ERROR_RANGE";
    case kVhtCommandLine:
      return "IGVM_VHT_COMMAND_LINE";
    case kVhtSlit:
      return "IGVM_VHT_SLIT";
    case kVhtPptt:
      return "IGVM_VHT_PPTT";
    case kVhtVbsMeasurement:
      return "IGVM_VHT_VBS_MEASUREMENT";
    case kVhtDeviceTree:
      return "IGVM_VHT_DEVICE_TREE";
    case kVhtEnvironmentInfo:
      return "IGVM_VHT_ENVIRONMENT_INFO_PARAMETER";
    default:
      return "unknown";
  }
}

namespace {

// The largest parameter area accepted: measuring one walks it page by page.
constexpr std::uint64_t kMaxParameterArea = 256ull << 20;

std::size_t expected_size(std::uint32_t t) {
  switch (t) {
    case kVhtSupportedPlatform:
      return kSizeSupportedPlatform;
    case kVhtGuestPolicy:
      return kSizeGuestPolicy;
    case kVhtRelocatableRegion:
      return kSizeRelocatableRegion;
    case kVhtPageTableRelocation:
      return kSizePageTableRelocation;
    case kVhtCorimDocument:
    case kVhtCorimSignature:
      return kSizeCorimData;
    case kVhtCcaPolicy:
      return kSizeCcaPolicy;
    case kVhtParameterArea:
      return kSizeParameterArea;
    case kVhtPageData:
      return kSizePageData;
    case kVhtParameterInsert:
      return kSizeParameterInsert;
    case kVhtVpContext:
      return kSizeVpContext;
    case kVhtRequiredMemory:
      return kSizeRequiredMemory;
    case kVhtErrorRange:
      return kSizeErrorRange;
    case kVhtSnpIdBlock:
      return kSizeSnpIdBlock;
    case kVhtVbsMeasurement:
      return kSizeVbsMeasurement;
    default:
      return kSizeParameter;
  }
}

class BodyReader {
 public:
  BodyReader(HeaderContext& ctx, Header& h) : ctx_(ctx), h_(h), b_(h.offset + 8) {}
  const ByteReader& r() const { return ctx_.r; }
  std::uint64_t at(std::size_t off) const { return b_ + off; }
  std::uint8_t u8(std::size_t off) const { return r().u8(b_ + off); }
  std::uint16_t le16(std::size_t off) const { return r().le16(b_ + off); }
  std::uint32_t le32(std::size_t off) const { return r().le32(b_ + off); }
  std::uint64_t le64(std::size_t off) const { return r().le64(b_ + off); }
  [[noreturn]] void fail(std::size_t off, const std::string& what) const {
    r().fail(b_ + off, std::string(type_name(h_.type)) + ": " + what);
  }
  void zero(std::size_t off, std::size_t len, const char* what) const {
    for (std::size_t i = 0; i < len; ++i)
      if (u8(off + i) != 0) fail(off + i, std::string(what) + " must be zero");
  }
  void aligned(std::size_t off, std::uint64_t v, std::uint64_t align, const char* what) const {
    if (v % align != 0)
      fail(off, std::string(what) + " " + hex_offset(v) + " is not " +
                    (align == kPageSize ? "4 KiB" : std::to_string(align) + "-byte") + " aligned");
  }
  // The mask must be nonzero. Bits of no declared platform are allowed: the
  // reference writer (microsoft/igvm IgvmFile::new) accepts them, and its
  // igvm_c test file has a guest policy for an undeclared mask.
  void mask(std::size_t off) {
    h_.has_mask = true;
    h_.compatibility_mask = le32(off);
    if (h_.compatibility_mask == 0) fail(off, "compatibility mask 0 (applies to no platform)");
  }
  // The file data at `file_offset` (field at `off`), `len` bytes; none when 0.
  void data(std::size_t off, std::uint64_t len) {
    h_.file_offset = le32(off);
    if (h_.file_offset == 0) return;
    if (h_.file_offset < ctx_.data_start)
      fail(off, "file offset " + hex_offset(h_.file_offset) +
                    " points into the headers (file data starts at " + hex_offset(ctx_.data_start) +
                    ")");
    if (!r().has(h_.file_offset, len))
      fail(off, "file data at " + hex_offset(h_.file_offset) + " (" + std::to_string(len) +
                    " bytes) runs past the end of the file");
    h_.data = r().bytes(h_.file_offset, len);
  }
  HeaderContext::Area& area(std::size_t off, const char* use) {
    h_.parameter_area_index = le32(off);
    auto it = ctx_.areas.find(h_.parameter_area_index);
    if (it == ctx_.areas.end() || it->second.inserted)
      fail(off, std::string(use) + " parameter area " + std::to_string(h_.parameter_area_index) +
                    " that is not declared or already inserted");
    return it->second;
  }

 private:
  HeaderContext& ctx_;
  Header& h_;
  std::uint64_t b_;
};

void read_platform(BodyReader& b, HeaderContext& ctx, Header& h) {
  h.has_mask = true;
  h.compatibility_mask = b.le32(0);
  h.highest_vtl = b.u8(4);
  h.platform_type = b.u8(5);
  h.platform_version = b.le16(6);
  h.shared_gpa_boundary = b.le64(8);
  if (std::popcount(h.compatibility_mask) != 1)
    b.fail(0, "compatibility mask " + hex_offset(h.compatibility_mask) + " is not one bit");
  if (h.highest_vtl != 0 && h.highest_vtl != 2)
    b.fail(4, "highest VTL " + std::to_string(h.highest_vtl) + " (0 or 2)");
  if (h.platform_type > kPlatformCca)
    b.fail(5, "unknown platform type " + std::to_string(h.platform_type));
  if (h.platform_version != 1)
    b.fail(6, "platform version " + std::to_string(h.platform_version) + " (only 1)");
  if ((h.platform_type == kPlatformNative || h.platform_type == kPlatformVsmIsolation) &&
      h.shared_gpa_boundary != 0)
    b.fail(8, "a shared GPA boundary on a platform without isolation");
  const bool aarch64 = ctx.f.architecture == Architecture::kAArch64;
  if (h.platform_type != kPlatformVsmIsolation && (h.platform_type == kPlatformCca) != aarch64)
    b.fail(5, std::string(platform_name(h.platform_type)) + " on the file's architecture");
  for (const auto& p : ctx.f.platforms) {
    if (p.platform_type == h.platform_type) b.fail(5, "a second header for this platform");
    if (p.compatibility_mask == h.compatibility_mask) b.fail(0, "a compatibility mask in use");
  }
}

void read_init(BodyReader& b, HeaderContext& ctx, Header& h) {
  switch (h.type) {
    case kVhtGuestPolicy:
      h.policy = b.le64(0);
      b.mask(8);
      b.zero(12, 4, "reserved");
      break;
    case kVhtRelocatableRegion: {
      b.mask(0);
      h.vp_index = b.le16(4);
      h.vtl = b.u8(6);
      h.flags = b.u8(7);
      if (h.flags & ~0x7u) b.fail(7, "unknown flags");
      const std::uint64_t align = b.le64(8);
      h.gpa = b.le64(16);
      h.size = b.le64(24);
      if (align == 0) b.fail(8, "relocation alignment 0");
      b.aligned(8, align, kPageSize, "relocation alignment");
      b.aligned(16, h.gpa, align, "region GPA");
      b.aligned(24, h.size, kPageSize, "region size");
      b.aligned(32, b.le64(32), align, "minimum relocation GPA");
      b.aligned(40, b.le64(40), align, "maximum relocation GPA");
      break;
    }
    case kVhtPageTableRelocation:
      b.mask(0);
      h.vp_index = b.le16(4);
      h.vtl = b.u8(6);
      b.zero(7, 1, "reserved");
      h.gpa = b.le64(8);
      h.size = b.le64(16);
      b.aligned(8, h.gpa, kPageSize, "GPA");
      b.aligned(16, h.size, kPageSize, "size");
      b.aligned(24, b.le64(24), kPageSize, "used size");
      if (b.le64(24) > h.size) b.fail(24, "used size larger than the region");
      break;
    case kVhtCorimDocument:
    case kVhtCorimSignature:
      b.mask(0);
      h.size = b.le32(8);
      b.data(4, h.size);
      b.zero(12, 4, "reserved");
      break;
    case kVhtCcaPolicy:
      if (ctx.f.architecture != Architecture::kAArch64) b.fail(0, "on an x64 file");
      b.mask(0);
      b.zero(4, 4, "reserved");
      if (b.u8(24) > 2) b.fail(24, "unknown hash algorithm");
      if (b.u8(25) > 1) b.fail(25, "unknown LFA policy");
      b.zero(26, 6, "reserved");
      break;
  }
}

void read_vp_context(BodyReader& b, HeaderContext& ctx, Header& h) {
  h.gpa = b.le64(0);
  b.mask(8);
  h.vp_index = b.le16(16);
  b.zero(18, 2, "reserved");
  const auto platform = ctx.f.platform_of(h.compatibility_mask);
  if (!platform) b.fail(8, "the mask is not exactly one declared platform's");
  h.platform_type = *platform;
  if (b.le32(12) == 0) b.fail(12, "a VP context without file data");
  if (*platform == kPlatformVsmIsolation) {
    b.data(12, 4);
    const std::uint64_t count = ctx.r.le32(h.file_offset);
    b.data(12, 4 + count * kVbsRegisterSize);
  } else if (*platform == kPlatformTdx) {
    b.fail(8, "a VP context for TDX (microsoft/igvm defines none)");
  } else {
    if (*platform == kPlatformSevSnp || *platform == kPlatformSevEs)
      b.aligned(0, h.gpa, kPageSize, "VMSA GPA");
    b.data(12, kPageSize);
    // A native (or SEV) or CCA context fills the start of its page; the rest
    // must be zero (microsoft/igvm: IgvmNativeVpContextX64, 232 bytes;
    // IgvmVpContextAArch64Cca, 80 bytes).
    std::size_t used = kPageSize;
    if (*platform == kPlatformNative || *platform == kPlatformSev) used = 232;
    if (*platform == kPlatformCca) used = 80;
    for (std::size_t i = used; i < kPageSize; ++i)
      if (h.data[i] != 0)
        ctx.r.fail(h.file_offset + i, std::string(type_name(h.type)) +
                                          ": nonzero bytes after the VP context structure");
  }
}

void read_directive(BodyReader& b, HeaderContext& ctx, Header& h) {
  switch (h.type) {
    case kVhtParameterArea: {
      h.size = b.le64(0);
      h.parameter_area_index = b.le32(8);
      if (h.size == 0 || h.size > kMaxParameterArea) b.fail(0, "parameter area size out of range");
      b.aligned(0, h.size, kPageSize, "parameter area size");
      b.data(12, h.size);
      if (!ctx.areas.emplace(h.parameter_area_index, HeaderContext::Area{h.size, false}).second)
        b.fail(8, "parameter area " + std::to_string(h.parameter_area_index) + " declared twice");
      break;
    }
    case kVhtPageData:
      h.gpa = b.le64(0);
      b.mask(8);
      h.flags = b.le32(16);
      h.data_type = b.le16(20);
      b.zero(22, 2, "reserved");
      if (h.flags & ~kPageFlagsKnown) b.fail(16, "unknown flags " + hex_offset(h.flags));
      if (h.data_type > kPageCpuidXf)
        b.fail(20, "unknown page data type " + std::to_string(h.data_type));
      if (h.flags & kPageFlag2M) {
        b.aligned(0, h.gpa, kPageSize2M, "2 MiB page GPA");
        if (b.le32(12) != 0) b.fail(12, "a 2 MiB page with file data (not supported)");
      } else {
        b.aligned(0, h.gpa, kPageSize, "page GPA");
      }
      b.data(12, kPageSize);
      break;
    case kVhtParameterInsert: {
      h.gpa = b.le64(0);
      b.mask(8);
      b.aligned(0, h.gpa, kPageSize, "GPA");
      auto& area = b.area(12, "inserts");
      h.size = area.size;
      if (h.gpa > ~std::uint64_t{0} - area.size) b.fail(0, "the area wraps the address space");
      area.inserted = true;
      break;
    }
    case kVhtVpContext:
      read_vp_context(b, ctx, h);
      break;
    case kVhtRequiredMemory:
      h.gpa = b.le64(0);
      b.mask(8);
      h.size = b.le32(12);
      h.flags = b.le32(16);
      if (h.flags & ~1u) b.fail(16, "unknown flags");
      b.zero(20, 4, "reserved");
      b.aligned(0, h.gpa, kPageSize, "GPA");
      b.aligned(12, h.size, kPageSize, "size");
      break;
    case kVhtErrorRange:
      h.gpa = b.le64(0);
      b.mask(8);
      h.size = b.le32(12);
      b.aligned(0, h.gpa, kPageSize, "GPA");
      break;
    case kVhtSnpIdBlock:
      b.mask(0);
      b.zero(5, 3, "reserved");
      if (b.u8(4) > 1) b.fail(4, "author_key_enabled is not 0 or 1");
      break;
    case kVhtVbsMeasurement:
      b.mask(0);
      break;
    case kVhtReservedDoNotUse:
      b.fail(0, "a reserved header type");
    default: {  // IGVM_VHS_PARAMETER
      auto& area = b.area(0, "uses");
      h.byte_offset = b.le32(4);
      if (h.byte_offset >= area.size) b.fail(4, "byte offset past the parameter area");
      break;
    }
  }
}

}  // namespace

void read_header_body(HeaderContext& ctx, Header& h) {
  BodyReader b(ctx, h);
  const std::size_t want = expected_size(h.type);
  if (h.length != want)
    ctx.r.fail(h.offset + 4, std::string(type_name(h.type)) + ": length " +
                                 std::to_string(h.length) + " (expected " + std::to_string(want) +
                                 ")");
  switch (h.section) {
    case Section::kPlatform:
      read_platform(b, ctx, h);
      break;
    case Section::kInitialization:
      read_init(b, ctx, h);
      break;
    case Section::kDirective:
      read_directive(b, ctx, h);
      break;
  }
}

}  // namespace mkguest::igvm
