// Strict PE/COFF header reader (see pe_image.h for the layout).
#include "builder/formats/pe/image.h"

#include <algorithm>

#include "base/byte_reader.h"
#include "base/error.h"

namespace mkguest::pe {
namespace {

bool power_of_two(std::uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

std::string section_label(const SectionHeader& s, std::size_t index) {
  return "section " + std::to_string(index) + " (" + (s.name.empty() ? "<unnamed>" : s.name) + ")";
}

}  // namespace

const DataDirectory* PeImage::certificate_directory() const {
  return directories.size() > kDirCertificate ? &directories[kDirCertificate] : nullptr;
}

const SectionHeader* PeImage::find(std::string_view name) const {
  for (const auto& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

PeImage parse_pe_image(std::span<const std::uint8_t> image, const std::string& source) {
  ByteReader r(image, source);
  if (r.size() < 0x40)
    r.fail(0,
           "not a PE image: " + std::to_string(r.size()) + " bytes is shorter than a DOS header");
  if (r.le16(0) != 0x5A4D) r.fail(0, "not a PE image: no \"MZ\" DOS header");
  PeImage p;
  p.pe_offset = r.le32(0x3C);
  r.need(p.pe_offset, 24, "PE signature and COFF header");
  if (r.le32(p.pe_offset) != 0x00004550) r.fail(p.pe_offset, "PE signature \"PE\\0\\0\" missing");
  p.coff_offset = p.pe_offset + 4;
  const std::size_t c = p.coff_offset;
  p.machine = r.le16(c);
  p.number_of_sections = r.le16(c + 2);
  p.timestamp = r.le32(c + 4);
  p.symbol_table_pointer = r.le32(c + 8);
  p.number_of_symbols = r.le32(c + 12);
  p.opt_header_size = r.le16(c + 16);
  p.characteristics = r.le16(c + 18);
  if (p.number_of_sections == 0) r.fail(c + 2, "NumberOfSections is 0: an image without sections");
  if (p.number_of_sections > 96)
    r.fail(c + 2, "NumberOfSections " + std::to_string(p.number_of_sections) +
                      " exceeds 96, the limit of the Windows and systemd-stub loaders");

  p.opt_offset = c + 20;
  const std::size_t o = p.opt_offset;
  r.need(o, p.opt_header_size, "optional header");
  if (p.opt_header_size < 2) r.fail(c + 16, "SizeOfOptionalHeader is too small for a magic");
  const std::uint16_t magic = r.le16(o);
  std::size_t fixed = 0;
  if (magic == kMagicPe32Plus) {
    p.pe32_plus = true;
    fixed = 112;
  } else if (magic == kMagicPe32) {
    fixed = 96;
  } else {
    r.fail(o, "unknown optional header magic " + hex_offset(magic) +
                  " (expected 0x10b for PE32 or 0x20b for PE32+)");
  }
  if (p.opt_header_size < fixed)
    r.fail(c + 16, "SizeOfOptionalHeader " + std::to_string(p.opt_header_size) +
                       " is smaller than the fixed fields (" + std::to_string(fixed) + " bytes)");
  p.size_of_code = r.le32(o + 4);
  p.size_of_initialized_data_offset = o + 8;
  p.size_of_initialized_data = r.le32(o + 8);
  p.entry_point = r.le32(o + 16);
  p.image_base = p.pe32_plus ? r.le64(o + 24) : r.le32(o + 28);
  p.section_alignment = r.le32(o + 32);
  p.file_alignment = r.le32(o + 36);
  p.size_of_image_offset = o + 56;
  p.size_of_image = r.le32(o + 56);
  p.size_of_headers_offset = o + 60;
  p.size_of_headers = r.le32(o + 60);
  p.checksum_offset = o + 64;
  p.checksum = r.le32(o + 64);
  p.subsystem = r.le16(o + 68);
  p.dll_characteristics_offset = o + 70;
  p.dll_characteristics = r.le16(o + 70);
  p.number_of_rva_offset = o + fixed - 4;
  const std::uint32_t nrva = r.le32(p.number_of_rva_offset);

  if (!power_of_two(p.file_alignment))
    r.fail(o + 36, "FileAlignment " + hex_offset(p.file_alignment) + " is not a power of two");
  if (!power_of_two(p.section_alignment))
    r.fail(o + 32,
           "SectionAlignment " + hex_offset(p.section_alignment) + " is not a power of two");
  if (nrva > 16)
    r.fail(p.number_of_rva_offset, "NumberOfRvaAndSizes " + std::to_string(nrva) + " exceeds 16");
  if (fixed + 8ull * nrva > p.opt_header_size)
    r.fail(p.number_of_rva_offset, "the " + std::to_string(nrva) +
                                       " data directories run past SizeOfOptionalHeader (" +
                                       std::to_string(p.opt_header_size) + ")");
  for (std::uint32_t i = 0; i < nrva; ++i) {
    DataDirectory d;
    d.offset = o + fixed + 8ull * i;
    d.address = r.le32(d.offset);
    d.size = r.le32(d.offset + 4);
    p.directories.push_back(d);
  }

  p.section_table_offset = o + p.opt_header_size;
  r.need(p.section_table_offset, kSectionHeaderSize * p.number_of_sections, "section table");
  if (p.size_of_headers > r.size())
    r.fail(p.size_of_headers_offset, "SizeOfHeaders " + hex_offset(p.size_of_headers) +
                                         " is beyond the end of the file (" + hex_offset(r.size()) +
                                         ")");
  if (p.size_of_headers < p.section_table_offset + kSectionHeaderSize * p.number_of_sections)
    r.fail(p.size_of_headers_offset,
           "SizeOfHeaders " + hex_offset(p.size_of_headers) + " ends inside the section table");
  for (std::uint16_t i = 0; i < p.number_of_sections; ++i) {
    const std::size_t e = p.section_table_offset + kSectionHeaderSize * i;
    SectionHeader s;
    s.header_offset = e;
    s.name = r.cstring(e, 8);
    s.virtual_size = r.le32(e + 8);
    s.virtual_address = r.le32(e + 12);
    s.raw_size = r.le32(e + 16);
    s.raw_pointer = r.le32(e + 20);
    s.characteristics = r.le32(e + 36);
    if (s.raw_size != 0 && !r.has(s.raw_pointer, s.raw_size))
      r.fail(e + 16, section_label(s, i) + " data [" + hex_offset(s.raw_pointer) + ", +" +
                         hex_offset(s.raw_size) + ") lies outside the file (" +
                         hex_offset(r.size()) + " bytes)");
    if (s.raw_size != 0 && s.raw_pointer < p.size_of_headers)
      r.fail(e + 20, section_label(s, i) + " data at " + hex_offset(s.raw_pointer) +
                         " overlaps the headers (SizeOfHeaders " + hex_offset(p.size_of_headers) +
                         ")");
    for (std::size_t j = 0; j < p.sections.size(); ++j) {
      const SectionHeader& t = p.sections[j];
      if (s.raw_size != 0 && t.raw_size != 0 && s.raw_pointer < t.raw_pointer + t.raw_size &&
          t.raw_pointer < s.raw_pointer + s.raw_size)
        r.fail(e + 20, section_label(s, i) + " data [" + hex_offset(s.raw_pointer) + ", +" +
                           hex_offset(s.raw_size) + ") overlaps " + section_label(t, j) +
                           " data [" + hex_offset(t.raw_pointer) + ", +" + hex_offset(t.raw_size) +
                           ")");
    }
    p.sections.push_back(std::move(s));
  }
  // A COFF symbol table (deprecated in images) and the string table after it:
  // 18 bytes per symbol, then a u32 size that counts itself. Where it lies in
  // the file, it must not cover the headers or any section's data (a writer
  // that cuts it off would cut those off with it).
  if (p.symbol_table_pointer != 0 && p.symbol_table_pointer < r.size()) {
    const std::uint64_t start = p.symbol_table_pointer;
    p.symbol_table_size = 18ull * p.number_of_symbols;
    const std::uint64_t strtab = start + p.symbol_table_size;
    if (strtab <= r.size() && r.size() - strtab >= 4) p.symbol_table_size += r.le32(strtab);
    const std::uint64_t end = std::min<std::uint64_t>(start + p.symbol_table_size, r.size());
    if (start < p.size_of_headers)
      r.fail(c + 8, "COFF symbol table at " + hex_offset(start) +
                        " overlaps the headers (SizeOfHeaders " + hex_offset(p.size_of_headers) +
                        ")");
    for (std::size_t i = 0; i < p.sections.size(); ++i) {
      const SectionHeader& s = p.sections[i];
      if (s.raw_size != 0 && start < std::uint64_t{s.raw_pointer} + s.raw_size &&
          s.raw_pointer < end)
        r.fail(c + 8, "COFF symbol and string table [" + hex_offset(start) + ", +" +
                          hex_offset(p.symbol_table_size) + ") overlaps " + section_label(s, i) +
                          " data [" + hex_offset(s.raw_pointer) + ", +" + hex_offset(s.raw_size) +
                          ")");
    }
  }
  if (const DataDirectory* cert = p.certificate_directory(); cert && cert->size != 0) {
    if (!r.has(cert->address, cert->size))
      r.fail(cert->offset, "certificate table [" + hex_offset(cert->address) + ", +" +
                               hex_offset(cert->size) + ") lies outside the file (" +
                               hex_offset(r.size()) + " bytes)");
    if (cert->address < p.size_of_headers)
      r.fail(cert->offset,
             "certificate table at " + hex_offset(cert->address) + " overlaps the headers");
  }
  return p;
}

std::span<const std::uint8_t> section_data(std::span<const std::uint8_t> image,
                                           const SectionHeader& s) {
  std::uint32_t n = s.raw_size;
  if (s.virtual_size < n) n = s.virtual_size;
  if (n == 0) return {};
  if (s.raw_pointer > image.size() || n > image.size() - s.raw_pointer)
    throw InternalError("section " + s.name + " does not belong to this image");
  return image.subspan(s.raw_pointer, n);
}

}  // namespace mkguest::pe
