// IBM SE header location and parsing for hdr.bin; see attest_se_hdr.h.
#include "builder/attest_se_hdr.h"

#include "base/byte_reader.h"
#include "base/error.h"

namespace mkguest::attest {

namespace {
constexpr std::uint64_t kMagic = 0x49424d5365634578ull;  // "IBMSecEx"
constexpr std::size_t kSlotsOffset = 0x1a0;
constexpr std::size_t kSlotSize = 80;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kPage = 0x1000;
constexpr std::size_t kFirstSearched = 0x14000;  // pvextract-hdr's legacy placement

SeHeader parse_at(const ByteReader& r, std::size_t off) {
  SeHeader h;
  h.offset = off;
  std::uint32_t version = r.be32(off + 0x08);
  if (version != 0x100)
    r.fail(off + 0x08, "SE header version " + hex_offset(version) + " is not 0x100");
  std::uint32_t phs = r.be32(off + 0x0c);
  std::uint64_t nks = r.be64(off + 0x20);
  std::uint64_t sea = r.be64(off + 0x28);
  if (nks == 0 || nks > 95)
    r.fail(off + 0x20, "SE header has " + std::to_string(nks) + " key slots (1..95)");
  if (sea > 2 * kPage) r.fail(off + 0x28, "SE header encrypted area size is too large");
  std::uint64_t expect = kSlotsOffset + kSlotSize * nks + sea + kTagSize;
  if (phs != expect)
    r.fail(off + 0x0c, "SE header size " + std::to_string(phs) + " does not match its " +
                           std::to_string(nks) + " key slots and encrypted area (" +
                           std::to_string(expect) + ")");
  auto all = r.bytes(off, phs);
  h.bytes.assign(all.begin(), all.end());
  for (std::uint64_t i = 0; i < nks; ++i)
    h.phkh.push_back(to_hex(r.bytes(off + kSlotsOffset + kSlotSize * i, 32)));
  h.tag = to_hex(r.bytes(off + phs - kTagSize, kTagSize));
  return h;
}
}  // namespace

SeHeader find_se_header(std::span<const std::uint8_t> image, const std::string& source) {
  ByteReader r(image, source);
  if (r.has(0, 8) && r.be64(0) == kMagic) return parse_at(r, 0);  // a bare hdr.bin
  for (std::size_t off = kFirstSearched; r.has(off, 8); off += kPage)
    if (r.be64(off) == kMagic) return parse_at(r, off);
  throw file_error(source, "no IBM SE header (magic IBMSecEx at a page boundary from 0x14000)");
}

}  // namespace mkguest::attest
