// The SE image and header reader (see se_reader.h; layout in se_image.h).
#include "builder/formats/se/reader.h"

#include "base/byte_reader.h"
#include "base/byte_writer.h"
#include "base/error.h"
#include "builder/formats/se/image.h"
#include "builder/formats/se/launch_digests.h"

namespace mkguest::se {
namespace {

constexpr std::uint64_t kFirstHeaderPage = 0x14000;

Bytes copy(std::span<const std::uint8_t> b) { return Bytes(b.begin(), b.end()); }

}  // namespace

Header parse_header(std::span<const std::uint8_t> data, const std::string& source) {
  std::size_t at = 0;
  if (!(data.size() >= 8 && ByteReader(data, source).be64(0) == kMagic)) {
    const ByteReader whole(data, source);
    at = data.size();
    for (std::uint64_t off = kFirstHeaderPage; off <= data.size() && 8 <= data.size() - off;
         off += kPage) {
      if (whole.be64(off) == kMagic) {
        at = off;
        break;
      }
    }
    if (at == data.size())
      throw NoSeHeaderError(source, "",
                            "no IBM SE header (magic IBMSecEx at offset 0 or on a page from " +
                                hex_offset(kFirstHeaderPage) + ")");
  }
  const ByteReader r(data.subspan(at), source, at);
  Header h;
  h.offset = at;
  r.need(0, kHeadSize, "SE header");
  h.version = r.be32(8);
  if (h.version != 0x100)
    r.fail(8, "SE header version " + hex_offset(h.version) + " is not supported (0x100)");
  h.phs = r.be32(0xc);
  h.iv = copy(r.bytes(0x10, 12));
  if (r.be32(0x1c) != 0) r.fail(0x1c, "reserved field is not zero");
  h.nks = r.be64(0x20);
  h.sea = r.be64(0x28);
  h.nep = r.be64(0x30);
  h.pcf = r.be64(0x38);
  if (h.nks == 0 || h.nks > kMaxKeySlots)
    r.fail(0x20, std::to_string(h.nks) + " key slots (1 to " + std::to_string(kMaxKeySlots) + ")");
  if (h.sea < kEncryptedSize || h.sea % 16 || h.sea > 2 * kPage)
    r.fail(0x28, "encrypted area of " + std::to_string(h.sea) + " bytes is invalid");
  const std::uint64_t want = kHeadSize + kSlotSize * h.nks + h.sea + kTagSize;
  if (h.phs != want || h.phs > 2 * kPage)
    r.fail(0xc, "SE header size " + std::to_string(h.phs) + " does not match " +
                    std::to_string(h.nks) + " key slots and a " + std::to_string(h.sea) +
                    "-byte encrypted area (" + std::to_string(want) + ", at most 2 pages)");
  r.need(0, h.phs, "SE header");
  h.customer_public = copy(r.bytes(0x40, 160));
  h.pld = copy(r.bytes(0xe0, 64));
  h.ald = copy(r.bytes(0x120, 64));
  h.tld = copy(r.bytes(0x160, 64));
  for (std::uint64_t i = 0; i < h.nks; ++i) {
    const std::size_t o = kHeadSize + kSlotSize * i;
    h.slots.push_back({copy(r.bytes(o, 32)), copy(r.bytes(o + 32, 32)), copy(r.bytes(o + 64, 16))});
  }
  const std::size_t aad = kHeadSize + kSlotSize * h.nks;
  h.aad = r.bytes(0, aad);
  h.encrypted = r.bytes(aad, h.sea);
  h.tag = copy(r.bytes(h.phs - kTagSize, kTagSize));
  h.raw = r.bytes(0, h.phs);
  return h;
}

Image parse_image(std::span<const std::uint8_t> data, const std::string& source) {
  Image img;
  img.header = parse_header(data, source);
  const Header& h = img.header;
  if (h.offset < kFirstHeaderPage)
    throw file_error(source, "a bare SE header, not an image (no IPIB and no components)");
  const ByteReader r(data, source);
  if (r.be64(0) != (0x0008000000000000ull | kPswMask | kStage3aEntry))
    r.fail(0, "the short PSW does not start stage3a at " + hex_offset(kStage3aEntry));
  // pvimg's metadata block names the header and the IPIB; genprotimg puts
  // the IPIB in the page before the header.
  img.pvimg = r.has(kMetadataOffset, 28) && r.cstring(kMetadataOffset, 8) == "SeImgLnx";
  if (img.pvimg) {
    if (r.be32(kMetadataOffset + 16) != 1)
      r.fail(kMetadataOffset + 16, "SE image metadata version " +
                                       std::to_string(r.be32(kMetadataOffset + 16)) +
                                       " is not supported (1)");
    if (r.be64(kMetadataOffset + 8) != h.offset)
      r.fail(kMetadataOffset + 8, "the metadata's header offset " +
                                      hex_offset(r.be64(kMetadataOffset + 8)) +
                                      " is not where the header is (" + hex_offset(h.offset) + ")");
    img.ipib_offset = r.be64(kMetadataOffset + 20);
  } else {
    img.ipib_offset = h.offset - kPage;
  }
  const std::uint64_t p = img.ipib_offset;
  r.need(p, 8 + 0x80, "IPIB");
  const std::uint64_t pb = p + 8;
  if (r.u8(p + 7) != 1) r.fail(p + 7, "IPIB version is not 1");
  if (r.u8(pb + 4) != 5) r.fail(pb + 4, "IPIB parameter block type is not 5 (PV)");
  const std::uint32_t n = r.be32(pb + 0x6c);
  if (n == 0 || 8 + 0x80 + 24ull * n > kPage || r.be32(pb) != 0x80 + 24 * n)
    r.fail(pb + 0x6c, std::to_string(n) + " components do not fit the IPIB's block length " +
                          std::to_string(r.be32(pb)));
  const std::uint32_t want_len = img.pvimg ? 8 + 0x80 + 24 * n : kPage;
  if (r.be32(p) != want_len)
    r.fail(p, "IPIB length " + std::to_string(r.be32(p)) + " is not " + std::to_string(want_len));
  r.need(p, want_len, "IPIB");
  if (r.be64(pb + 0x70) != (img.pvimg ? h.offset : 0))
    r.fail(pb + 0x70, "IPIB header address " + hex_offset(r.be64(pb + 0x70)) + " is unexpected");
  if (r.be64(pb + 0x78) != h.phs)
    r.fail(pb + 0x78, "IPIB header size " + std::to_string(r.be64(pb + 0x78)) +
                          " is not the header's " + std::to_string(h.phs));
  std::uint64_t end = h.offset + h.phs;
  std::vector<MeasuredComponent> table;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint64_t e = pb + 0x80 + 24ull * i;
    IpibComponent c{r.be64(e), r.be64(e + 8), r.be64(e + 16)};
    if (c.addr % kPage || c.size % kPage || c.size == 0)
      r.fail(e + 8, "component " + std::to_string(i) + " is not page-aligned");
    if (c.addr < end)
      r.fail(e + 8, "component " + std::to_string(i) + " at " + hex_offset(c.addr) +
                        " overlaps what precedes it (ends at " + hex_offset(end) + ")");
    if (!r.has(c.addr, c.size))
      r.fail(e + 8, "component " + std::to_string(i) + " (" + hex_offset(c.addr) + ", " +
                        std::to_string(c.size) + " bytes) runs past the end of the image");
    if (i > 0 && c.tweak_prefix <= img.components.back().tweak_prefix)
      r.fail(e, "tweak prefixes do not strictly increase");
    MeasuredComponent m{c.addr, c.size, {}};
    for (int k = 0; k < 8; ++k)
      m.tweak[k] = static_cast<std::uint8_t>(c.tweak_prefix >> (56 - 8 * k));
    table.push_back(m);
    end = c.addr + c.size;
    img.components.push_back(c);
  }
  LaunchDigests d = launch_digests(
      table, [&](std::size_t i, const auto& feed) { feed(r.bytes(table[i].addr, table[i].size)); });
  img.pld = std::move(d.pld);
  img.ald = std::move(d.ald);
  img.tld = std::move(d.tld);
  img.nep = d.nep;
  return img;
}

Bytes unwrap_header_key(const Header& h, EVP_PKEY* host_private, const std::string& source) {
  require_p521(host_private, source);
  const Bytes phkh = public_key_hash(host_private);
  for (const KeySlot& s : h.slots) {
    if (s.phkh != phkh) continue;
    const ossl::Pkey cust = p521_from_xy(h.customer_public, source);
    Bytes kek = slot_kek(host_private, cust.get()), key;
    const bool ok = gcm_decrypt(kek, Bytes(12, 0), {}, s.wrapped, s.tag, &key);
    OPENSSL_cleanse(kek.data(), kek.size());
    if (!ok)
      throw file_error(source, "the key slot for this host key does not open (tag mismatch)");
    return key;
  }
  throw file_error(source, "no key slot for this host key (phkh " + to_hex(phkh) + ")");
}

Secret open_header(const Header& h, std::span<const std::uint8_t> header_key,
                   const std::string& source) {
  if (header_key.size() != 32) throw ValueError("the header key is 32 bytes");
  Bytes plain;
  if (!gcm_decrypt(header_key, h.iv, h.aad, h.encrypted, h.tag, &plain))
    throw offset_error(source, h.offset + h.phs - kTagSize,
                       "the SE header's GCM tag does not verify with this key");
  const ByteReader r(plain, source + " (decrypted header)");
  Secret s;
  s.cck = copy(r.bytes(0, 32));
  s.image_key = copy(r.bytes(32, 64));
  s.psw_mask = r.be64(96);
  s.psw_addr = r.be64(104);
  s.scf = r.be64(112);
  s.noi = r.be32(120);
  OPENSSL_cleanse(plain.data(), plain.size());
  return s;
}

Bytes decrypt_component(const Image& img, std::span<const std::uint8_t> data, const Secret& secret,
                        std::size_t i) {
  const IpibComponent& c = img.components.at(i);
  const auto stored = data.subspan(c.addr, c.size);
  if (img.header.pcf & kPcfNoDecryption) return copy(stored);
  std::array<std::uint8_t, 16> t{};
  for (int k = 0; k < 8; ++k) t[k] = static_cast<std::uint8_t>(c.tweak_prefix >> (56 - 8 * k));
  Bytes out(stored.size());
  XtsPages(secret.image_key, false).run(t, stored, out);
  return out;
}

std::optional<StageArgs> find_stage3b_args(const Image& img, std::span<const std::uint8_t> plain) {
  if (img.components.empty() || plain.size() < kStage3bArgs) return std::nullopt;
  const ByteReader r(plain, "stage3b");
  for (std::size_t o = plain.size() - kStage3bArgs + 1; o-- > 0;) {
    if (r.be64(o) != img.components.front().addr || r.be64(o + 48) != kPswMask) continue;
    StageArgs a;
    for (int k = 0; k < 3; ++k) {
      a.addr[k] = r.be64(o + 16 * k);
      a.size[k] = r.be64(o + 16 * k + 8);
    }
    a.psw_mask = r.be64(o + 48);
    a.psw_addr = r.be64(o + 56);
    a.offset = o;
    return a;
  }
  return std::nullopt;
}

}  // namespace mkguest::se
