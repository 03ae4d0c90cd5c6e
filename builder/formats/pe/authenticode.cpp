// Authenticode digest of a PE/COFF image (see pe_hash.h; docs/specs/tdx.md §5.3).
#include "builder/formats/pe/authenticode.h"

#include <algorithm>

#include "base/byte_reader.h"
#include "base/error.h"
#include "builder/formats/pe/image.h"

namespace mkguest::pe {

PeLayout parse_pe(std::span<const std::uint8_t> image, const std::string& source) {
  const PeImage p = parse_pe_image(image, source);
  PeLayout l;
  l.checksum_offset = p.checksum_offset;
  l.size_of_headers = p.size_of_headers;
  if (const DataDirectory* cert = p.certificate_directory()) {
    l.certdir_offset = cert->offset;
    l.cert_size = cert->size;
  }
  for (const auto& sh : p.sections)
    l.sections.push_back({sh.name, sh.virtual_size, sh.raw_size, sh.raw_pointer});
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
