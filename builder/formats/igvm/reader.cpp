// The strict IGVM reader: the framing (fixed header, CRC-32, TLVs, sections).
// The structures of each header type are read in headers.cpp. Spec:
// microsoft/igvm igvm_defs/src/lib.rs and the loader rules of
// igvm/src/lib.rs (IgvmFile::new_from_binary), commit e6c3ff1c; the layout
// is summarised in format.h.
#include "builder/formats/igvm/reader.h"

#include <zlib.h>

#include <algorithm>
#include <array>

#include "base/byte_reader.h"
#include "base/error.h"
#include "builder/formats/igvm/headers.h"

namespace mkguest::igvm {

std::optional<std::uint32_t> File::mask_of(std::uint8_t platform_type) const {
  for (const auto& p : platforms)
    if (p.platform_type == platform_type) return p.compatibility_mask;
  return std::nullopt;
}

std::optional<std::uint8_t> File::platform_of(std::uint32_t mask) const {
  for (const auto& p : platforms)
    if (p.compatibility_mask == mask) return p.platform_type;
  return std::nullopt;
}

std::uint32_t header_checksum(std::span<const std::uint8_t> bytes, std::size_t fixed_size,
                              std::uint32_t var_offset, std::uint32_t var_size) {
  std::array<std::uint8_t, kFixedHeaderSizeV2> fixed{};
  std::copy_n(bytes.begin(), fixed_size, fixed.begin());
  std::fill_n(fixed.begin() + kFhChecksum, 4, std::uint8_t{0});
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, fixed.data(), static_cast<uInt>(fixed_size));
  crc = crc32(crc, bytes.data() + var_offset, static_cast<uInt>(var_size));
  return static_cast<std::uint32_t>(crc);
}

namespace {

std::string hex32(std::uint32_t v) { return hex_offset(v); }

Section section_of(std::uint32_t type, bool* known_range) {
  *known_range = true;
  if (type >= kRangePlatformFirst && type <= kRangePlatformLast) return Section::kPlatform;
  if (type >= kRangeInitFirst && type <= kRangeInitLast) return Section::kInitialization;
  if (type >= kRangeDirectiveFirst && type <= kRangeDirectiveLast) return Section::kDirective;
  *known_range = false;
  return Section::kDirective;
}

std::string_view section_name(Section s) {
  switch (s) {
    case Section::kPlatform:
      return "platform";
    case Section::kInitialization:
      return "initialization";
    case Section::kDirective:
      return "directive";
  }
  return "?";
}

}  // namespace

File parse_igvm(std::span<const std::uint8_t> bytes, const std::string& source) {
  ByteReader r(bytes, source);
  File f;
  r.need(0, kFixedHeaderSizeV1, "the IGVM fixed header");
  if (r.le32(kFhMagic) != kMagic) r.fail(kFhMagic, "not an IGVM file (magic is not \"IGVM\")");
  f.revision = r.le32(kFhVersion);
  if (f.revision != kVersion1 && f.revision != kVersion2)
    r.fail(kFhVersion, "IGVM format version " + std::to_string(f.revision) + " (expected 1 or 2)");
  const std::size_t fixed = f.revision == kVersion1 ? kFixedHeaderSizeV1 : kFixedHeaderSizeV2;
  if (f.revision == kVersion2) {
    r.need(0, kFixedHeaderSizeV2, "the IGVM revision 2 fixed header");
    const std::uint32_t arch = r.le32(kFhArchitecture);
    if (arch > 1) r.fail(kFhArchitecture, "architecture " + std::to_string(arch) + " (0 or 1)");
    f.architecture = static_cast<Architecture>(arch);
    f.page_size = r.le32(kFhPageSize);
    if (f.page_size != kPageSize)
      r.fail(kFhPageSize, "page size " + std::to_string(f.page_size) + " (only 4096)");
  }
  f.total_file_size = r.le32(kFhTotalSize);
  if (f.total_file_size != bytes.size())
    r.fail(kFhTotalSize, "total_file_size is " + std::to_string(f.total_file_size) +
                             " but the file has " + std::to_string(bytes.size()) + " bytes");
  f.variable_header_offset = r.le32(kFhVarOffset);
  f.variable_header_size = r.le32(kFhVarSize);
  if (f.variable_header_offset < fixed || f.variable_header_offset % 8 != 0)
    r.fail(kFhVarOffset, "variable_header_offset " + hex32(f.variable_header_offset) +
                             " is inside the fixed header or not 8-byte aligned");
  if (!r.has(f.variable_header_offset, f.variable_header_size))
    r.fail(kFhVarSize, "the variable header (" + std::to_string(f.variable_header_size) +
                           " bytes at " + hex32(f.variable_header_offset) +
                           ") runs past the end of the file");
  f.checksum = r.le32(kFhChecksum);
  const std::uint32_t crc =
      header_checksum(bytes, fixed, f.variable_header_offset, f.variable_header_size);
  if (crc != f.checksum)
    r.fail(kFhChecksum,
           "checksum " + hex32(f.checksum) + " but the headers' CRC-32 is " + hex32(crc));

  const std::uint64_t end = std::uint64_t{f.variable_header_offset} + f.variable_header_size;
  HeaderContext ctx(r, f, static_cast<std::uint32_t>(end));
  Section stage = Section::kPlatform;
  for (std::uint64_t pos = f.variable_header_offset; pos < end;) {
    if (end - pos < 8) r.fail(pos, "a variable header entry runs past the variable header");
    const std::uint32_t raw = r.le32(pos);
    const std::uint32_t length = r.le32(pos + 4);
    if (length > end - pos - 8)
      r.fail(pos + 4, "header length " + std::to_string(length) + " runs past the variable header");
    const std::uint64_t next = pos + 8 + ((std::uint64_t{length} + 7) & ~std::uint64_t{7});
    if (next > end) r.fail(pos + 4, "the header's 8-byte padding runs past the variable header");
    for (std::uint64_t p = pos + 8 + length; p < next; ++p)
      if (r.u8(p) != 0) r.fail(p, "nonzero padding after a variable header");

    Header h;
    h.optional = (raw & kOptionalBit) != 0;
    h.type = raw & ~kOptionalBit;
    h.offset = pos;
    h.length = length;
    h.body = r.bytes(pos + 8, length);
    bool in_range = false;
    h.section = section_of(h.type, &in_range);
    h.known = in_range && type_name(h.type) != "unknown";
    if (!h.known) {
      if (!h.optional)
        r.fail(pos, "unknown variable header type " + hex32(h.type) +
                        " without the optional bit (0x80000000)");
      h.section = stage;  // skipped: it does not move the stage
    } else {
      if (h.section < stage)
        r.fail(pos, std::string(type_name(h.type)) + ": a header of the " +
                        std::string(section_name(h.section)) + " section after " +
                        std::string(section_name(stage)) + " headers");
      if (h.section != Section::kPlatform && f.platforms.empty())
        r.fail(pos, "no IGVM_VHT_SUPPORTED_PLATFORM header before the first other header");
      stage = h.section;
      read_header_body(ctx, h);
    }
    switch (h.section) {
      case Section::kPlatform:
        f.platforms.push_back(h);
        break;
      case Section::kInitialization:
        f.initializations.push_back(h);
        break;
      case Section::kDirective:
        f.directives.push_back(h);
        break;
    }
    pos = next;
  }
  if (f.platforms.empty())
    r.fail(kFhVarOffset, "the file has no IGVM_VHT_SUPPORTED_PLATFORM header");
  return f;
}

std::string_view platform_name(std::uint8_t t) {
  switch (t) {
    case kPlatformNative:
      return "native";
    case kPlatformVsmIsolation:
      return "vsm";
    case kPlatformSevSnp:
      return "sev-snp";
    case kPlatformTdx:
      return "tdx";
    case kPlatformSev:
      return "sev";
    case kPlatformSevEs:
      return "sev-es";
    case kPlatformCca:
      return "cca";
    default:
      return "unknown";
  }
}

std::string_view page_data_type_name(std::uint16_t t) {
  switch (t) {
    case kPageNormal:
      return "normal";
    case kPageSecrets:
      return "secrets";
    case kPageCpuidData:
      return "cpuid-data";
    case kPageCpuidXf:
      return "cpuid-xf";
    default:
      return "unknown";
  }
}

}  // namespace mkguest::igvm
