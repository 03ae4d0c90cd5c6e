// Authenticode digest of a PE/COFF image (see pe_hash.h; tdx.md §5.3).
#include "firmware/pe_hash.h"

#include <algorithm>

#include "base/byte_reader.h"
#include "base/error.h"

namespace mkguest::pe {

PeLayout parse_pe(std::span<const std::uint8_t> image, const std::string& source) {
  ByteReader r(image, source);
  if (r.size() < 0x40 || r.le16(0) != 0x5A4D) r.fail(0, "not a PE image (no MZ header)");
  const std::uint32_t pe = r.le32(0x3C);
  if (r.le32(pe) != 0x00004550) r.fail(pe, "PE signature missing");
  const std::size_t coff = pe + 4;
  const std::uint16_t nsec = r.le16(coff + 2);
  const std::uint16_t opt_size = r.le16(coff + 16);
  const std::size_t opt = coff + 20;
  r.need(opt, opt_size, "PE optional header");
  const std::uint16_t magic = r.le16(opt);
  std::size_t nrva_off = 0, dd_off = 0;
  if (magic == 0x20B) {
    nrva_off = opt + 108;
    dd_off = opt + 112;
  } else if (magic == 0x10B) {
    nrva_off = opt + 92;
    dd_off = opt + 96;
  } else {
    r.fail(opt, "unknown PE optional header magic " + hex_offset(magic));
  }
  PeLayout l;
  l.checksum_offset = opt + 64;
  l.size_of_headers = r.le32(opt + 60);
  const std::uint32_t nrva = r.le32(nrva_off);
  if (nrva > 16) r.fail(nrva_off, "NumberOfRvaAndSizes " + std::to_string(nrva) + " exceeds 16");
  if (dd_off + 8ull * nrva > opt + opt_size)
    r.fail(nrva_off, "data directories exceed the optional header");
  if (nrva > 4) {
    l.certdir_offset = dd_off + 4 * 8;
    l.cert_size = r.le32(l.certdir_offset + 4);
  }
  if (l.size_of_headers > r.size() || l.size_of_headers < l.certdir_offset + 8)
    r.fail(opt + 60, "SizeOfHeaders " + hex_offset(l.size_of_headers) + " is invalid");
  const std::size_t sec = opt + opt_size;
  for (std::uint16_t i = 0; i < nsec; ++i) {
    const std::size_t e = sec + 40ull * i;
    PeSection s;
    s.name = r.cstring(e, 8);
    s.virtual_size = r.le32(e + 8);
    s.raw_size = r.le32(e + 16);
    s.raw_pointer = r.le32(e + 20);
    if (s.raw_size && !r.has(s.raw_pointer, s.raw_size))
      r.fail(e + 16, "section " + s.name + " raw data lies outside the image");
    l.sections.push_back(s);
  }
  if (l.cert_size > r.size())
    r.fail(l.certdir_offset + 4, "certificate table larger than the image");
  return l;
}

Bytes authenticode_digest(std::span<const std::uint8_t> image, const std::string& source,
                          HashAlg alg) {
  const PeLayout l = parse_pe(image, source);
  Hasher h(alg);
  h.update(image.subspan(0, l.checksum_offset));
  if (l.certdir_offset) {
    h.update(image.subspan(l.checksum_offset + 4, l.certdir_offset - (l.checksum_offset + 4)));
    h.update(image.subspan(l.certdir_offset + 8, l.size_of_headers - (l.certdir_offset + 8)));
  } else {
    h.update(image.subspan(l.checksum_offset + 4, l.size_of_headers - (l.checksum_offset + 4)));
  }
  std::vector<PeSection> secs;
  for (const auto& s : l.sections)
    if (s.raw_size) secs.push_back(s);
  std::stable_sort(secs.begin(), secs.end(), [](const PeSection& a, const PeSection& b) {
    return a.raw_pointer < b.raw_pointer;
  });
  std::uint64_t sum = l.size_of_headers;
  for (const auto& s : secs) {
    h.update(image.subspan(s.raw_pointer, s.raw_size));
    sum += s.raw_size;
  }
  const std::uint64_t end = image.size() - l.cert_size;
  if (sum < end) h.update(image.subspan(sum, end - sum));
  return h.finish();
}

std::span<const std::uint8_t> section_bytes(std::span<const std::uint8_t> image, const PeLayout&,
                                            const PeSection& s) {
  std::uint32_t n = s.raw_size;
  if (s.virtual_size && s.virtual_size < n) n = s.virtual_size;
  return image.subspan(s.raw_pointer, n);
}

}  // namespace mkguest::pe
