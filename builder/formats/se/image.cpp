// The SE image writer (layout and header: se_image.h, docs/se.md).
#include "builder/formats/se/image.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <future>

#include "base/byte_reader.h"
#include "base/byte_writer.h"
#include "base/error.h"
#include "builder/formats/se/launch_digests.h"

namespace mkguest::se {
namespace {

constexpr std::size_t kChunk = 256 * kPage;  // pages per encryption batch
constexpr std::size_t kLegacyCmdlineSize = 896;

std::uint64_t page_align(std::uint64_t n) { return (n + kPage - 1) & ~(kPage - 1); }

void check_kernel(const ImageInputs& in) {
  const ByteReader r(in.kernel, in.kernel_name);
  if (r.size() >= 4 && std::memcmp(in.kernel.data(),
                                   "\x7f"
                                   "ELF",
                                   4) == 0)
    r.fail(0, "the kernel is an ELF file; SE needs the raw s390x image (arch/s390/boot/image)");
  if (!r.has(0x10430, 8))
    r.fail(0, "the kernel is " + std::to_string(r.size()) +
                  " bytes, too small for an s390x kernel image (needs 0x10438)");
  if (r.cstring(0x10008, 6) != "S390EP")
    r.fail(0x10008, "no 'S390EP' magic: not an s390x kernel image");
  std::uint64_t max = r.be64(0x10430);
  if (max == 0) max = kLegacyCmdlineSize;
  if (in.parmline && in.parmline->size() + 1 > max)
    throw file_error(in.parmline_name,
                     "the kernel command line is " + std::to_string(in.parmline->size() + 1) +
                         " bytes with its NUL; the kernel takes at most " + std::to_string(max) +
                         " (COMMAND_LINE_SIZE at " + in.kernel_name + ":0x10430)");
}

struct Source {
  CompType type;
  std::span<const std::uint8_t> data;
};

// Streams the stored bytes of one component (ciphertext, or the padded
// plaintext when the UV is told not to decrypt) to `fn` in page batches, on
// two cores: a worker copies and encrypts batch k+1 (and feeds `plain_sha`
// the original bytes) while the caller's `fn` consumes batch k. Each input
// range is handed to `release` once it has been read.
struct Batch {
  Bytes plain, stored;
  std::size_t n = 0;
};

template <typename Fn>
void each_stored_chunk(const Source& s, const Component& c, XtsPages* xts, Hasher* plain_sha,
                       const std::function<void(std::span<const std::uint8_t>)>& release, Fn&& fn) {
  const std::size_t cap = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, c.size));
  Batch batches[2];
  for (auto& b : batches) {
    b.plain.resize(cap);
    if (xts) b.stored.resize(cap);
  }
  std::array<std::uint8_t, 16> tweak = c.tweak;
  auto produce = [&](std::uint64_t off, Batch& b) {
    b.n = static_cast<std::size_t>(std::min<std::uint64_t>(cap, c.size - off));
    std::fill(b.plain.begin(), b.plain.begin() + static_cast<std::ptrdiff_t>(b.n), 0);
    if (off < s.data.size()) {
      const std::size_t have =
          static_cast<std::size_t>(std::min<std::uint64_t>(b.n, s.data.size() - off));
      const auto src = s.data.subspan(static_cast<std::size_t>(off), have);
      std::memcpy(b.plain.data(), src.data(), have);
      if (plain_sha) plain_sha->update(src);
      if (release) release(src);
    }
    if (xts) {
      xts->run(tweak, std::span<const std::uint8_t>(b.plain.data(), b.n),
               std::span<std::uint8_t>(b.stored.data(), b.n));
      add_be128(tweak, b.n);
    }
  };
  if (c.size == 0) return;
  produce(0, batches[0]);
  std::size_t cur = 0;
  for (std::uint64_t off = 0; off < c.size;) {
    Batch& b = batches[cur];
    const std::uint64_t next = off + b.n;
    std::future<void> ahead;
    if (next < c.size)
      ahead = std::async(std::launch::async, [&, next] { produce(next, batches[1 - cur]); });
    fn(std::span<const std::uint8_t>(xts ? b.stored.data() : b.plain.data(), b.n));
    if (ahead.valid()) ahead.get();
    off = next;
    cur = 1 - cur;
  }
}

Bytes stage3b_with_args(const ImageInputs& in, const std::vector<Component>& comps,
                        const Flags& f) {
  if (in.stage3b.size() < kStage3bArgs)
    throw file_error(in.stage3b_name, "shorter than its 64-byte argument block");
  Bytes b(in.stage3b.begin(), in.stage3b.end());
  ByteWriter a;
  for (CompType t : {CompType::kKernel, CompType::kCmdline, CompType::kInitrd}) {
    auto it =
        std::find_if(comps.begin(), comps.end(), [&](const Component& c) { return c.type == t; });
    a.be64(it == comps.end() ? 0 : it->addr);
    a.be64(it == comps.end() ? 0 : it->orig_size);
  }
  a.be64(kPswMask);
  a.be64(f.kernel_psw_addr);
  std::copy(a.bytes().begin(), a.bytes().end(), b.end() - kStage3bArgs);
  return b;
}

Bytes take_or_draw(const std::optional<Bytes>& given, std::size_t n, Random& rnd,
                   const char* what) {
  if (!given) return rnd.bytes(n);
  if (given->size() != n)
    throw InternalError(std::string(what) + " must be " + std::to_string(n) + " bytes");
  return *given;
}

SecretBytes take_or_draw(const std::optional<SecretBytes>& given, std::size_t n, Random& rnd,
                         const char* what) {
  if (!given) return SecretBytes(rnd.bytes(n));
  if (given->size() != n)
    throw InternalError(std::string(what) + " must be " + std::to_string(n) + " bytes");
  return SecretBytes(given->view());
}

}  // namespace

std::uint16_t tweak_type(Layout l, CompType t) {
  const bool c = l == Layout::kGenprotimg;
  switch (t) {
    case CompType::kKernel:
      return c ? 0 : 40;
    case CompType::kCmdline:
      return c ? 1 : 60;
    case CompType::kInitrd:
      return c ? 2 : 50;
    case CompType::kStage3b:
      return c ? 3 : 70;
  }
  return 0;
}

const char* comp_name(CompType t) {
  switch (t) {
    case CompType::kKernel:
      return "kernel";
    case CompType::kCmdline:
      return "parmline";
    case CompType::kInitrd:
      return "ramdisk";
    case CompType::kStage3b:
      return "stage3b";
  }
  return "?";
}

std::uint64_t Component::tweak_prefix() const {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | tweak[i];
  return v;
}

BuiltImage write_image(const ImageInputs& in, const Secrets& sec, const Flags& f, Random& rnd,
                       ByteSink& out) {
  // --- plan ---
  const std::size_t nks = in.host_keys.size();
  if (nks == 0) throw ValueError("SE: at least one host-key document is needed");
  if (nks > kMaxKeySlots)
    throw ValueError("SE: " + std::to_string(nks) + " host keys; the header holds at most " +
                     std::to_string(kMaxKeySlots) + " key slots (2 pages)");
  if (in.component_check) check_kernel(in);
  if (in.stage3a.size() < kStage3aArgs)
    throw file_error(in.stage3a_name, "shorter than its 24-byte argument block");
  if ((f.pcf & kPcfAllowDump) && !sec.cck)
    throw ValueError("SE: allowing dumps needs a customer communication key (--comm-key)");
  const bool pvimg = f.layout == Layout::kPvimg;
  const std::size_t phs = kHeadSize + kSlotSize * nks + kEncryptedSize + kTagSize;
  const std::uint64_t after_stage3a = kStage3aLoad + page_align(in.stage3a.size());
  // genprotimg: IPIB page, header page(s), components. pvimg: header (from
  // 0x14000 at the earliest, where pvextract-hdr starts looking), components,
  // IPIB after stage3b.
  std::uint64_t ipib_off = after_stage3a;
  const std::uint64_t hdr_off =
      pvimg ? std::max<std::uint64_t>(after_stage3a, 0x14000) : after_stage3a + kPage;
  // pvextract-hdr, and our reader, look for the header from 0x14000 on: a
  // stage3a of 8 KiB or less would put a genprotimg-layout header before it,
  // in an image that no reader finds (s390-tools' stage3a is about 10 KB).
  if (hdr_off < 0x14000)
    throw file_error(in.stage3a_name,
                     std::to_string(in.stage3a.size()) + " bytes would put the SE header at " +
                         hex_offset(hdr_off) +
                         ", before 0x14000 where pvextract-hdr and inspect look for it; give "
                         "s390-tools' stage3a.bin (more than 8 KiB) or --layout pvimg");
  std::uint64_t next = hdr_off + page_align(phs);

  Bytes parm;
  if (in.parmline) {
    parm = *in.parmline;
    if (!pvimg || parm.empty() || parm.back() != 0) parm.push_back(0);
  }
  std::vector<Source> sources = {{CompType::kKernel, in.kernel}};
  if (pvimg) {
    if (in.initrd) sources.push_back({CompType::kInitrd, *in.initrd});
    if (in.parmline) sources.push_back({CompType::kCmdline, parm});
  } else {
    if (in.parmline) sources.push_back({CompType::kCmdline, parm});
    if (in.initrd) sources.push_back({CompType::kInitrd, *in.initrd});
  }
  sources.push_back({CompType::kStage3b, {}});  // filled once the others have addresses
  if (!sec.tweak_random.empty() && sec.tweak_random.size() != sources.size())
    throw ValueError("SE: " + std::to_string(sources.size()) + " tweaks needed, " +
                     std::to_string(sec.tweak_random.size()) + " given");

  // genprotimg's draw order: image key, CCK, header key, IV, ephemeral key, tweaks.
  const SecretBytes image_key = take_or_draw(sec.image_key, 64, rnd, "the image key");
  const SecretBytes cck = take_or_draw(sec.cck, 32, rnd, "the CCK");
  const SecretBytes header_key = take_or_draw(sec.header_key, 32, rnd, "the header key");
  const Bytes iv = take_or_draw(sec.iv, 12, rnd, "the IV");
  ossl::Pkey own_eph;
  EVP_PKEY* eph = sec.ephemeral;
  if (!eph) {
    own_eph = generate_p521(rnd);
    eph = own_eph.get();
  }

  std::vector<Component> comps;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    Component c;
    c.type = sources[i].type;
    const Bytes r = i < sec.tweak_random.size() ? sec.tweak_random[i] : rnd.bytes(6);
    if (r.size() != 6) throw ValueError("SE: a tweak's random part is 6 bytes");
    const std::uint16_t type = tweak_type(f.layout, c.type);
    c.tweak[0] = static_cast<std::uint8_t>(type >> 8);
    c.tweak[1] = static_cast<std::uint8_t>(type);
    std::copy(r.begin(), r.end(), c.tweak.begin() + 2);
    if (!comps.empty() && c.tweak_prefix() <= comps.back().tweak_prefix())
      throw ValueError("SE: tweak prefixes must strictly increase in component order");
    comps.push_back(c);
  }
  for (std::size_t i = 0; i + 1 < sources.size(); ++i) {
    comps[i].orig_size = sources[i].data.size();
    comps[i].size = std::max<std::uint64_t>(page_align(sources[i].data.size()), kPage);
    comps[i].addr = next;
    next += comps[i].size;
  }
  const Bytes stage3b = stage3b_with_args(in, comps, f);
  sources.back().data = stage3b;
  Component& s3b = comps.back();
  s3b.orig_size = stage3b.size();
  s3b.size = std::max<std::uint64_t>(page_align(stage3b.size()), kPage);
  s3b.addr = next;
  next += s3b.size;

  // --- measure: PLD over the stored pages, ALD over addresses, TLD over tweaks ---
  const bool encrypt = !(f.pcf & kPcfNoDecryption);
  XtsPages xts(image_key, true);
  std::vector<MeasuredComponent> table;
  for (const Component& c : comps) table.push_back({c.addr, c.size, c.tweak});
  LaunchDigests d = launch_digests(table, [&](std::size_t i, const auto& feed) {
    Hasher plain_sha(HashAlg::kSha256);
    each_stored_chunk(sources[i], comps[i], encrypt ? &xts : nullptr, &plain_sha, in.release, feed);
    comps[i].sha256 = plain_sha.finish();
  });
  BuiltImage img;
  img.layout = f.layout;
  img.pld = std::move(d.pld);
  img.ald = std::move(d.ald);
  img.tld = std::move(d.tld);
  img.nep = d.nep;
  img.pcf = f.pcf;
  img.scf = f.scf;

  // --- the header ---
  ByteWriter h(phs);
  h.be64(kMagic);
  h.be32(0x100);
  h.be32(static_cast<std::uint32_t>(phs));
  h.append(iv);
  h.be32(0);
  h.be64(nks);
  h.be64(kEncryptedSize);
  h.be64(img.nep);
  h.be64(f.pcf);
  h.append(p521_public_xy(eph));
  h.append(img.pld);
  h.append(img.ald);
  h.append(img.tld);
  const Bytes zero_iv(12, 0);
  for (EVP_PKEY* host : in.host_keys) {
    const Bytes phkh = public_key_hash(host);
    Bytes kek = slot_kek(eph, host), slot_tag;
    const Bytes wrapped = gcm_encrypt(kek, zero_iv, {}, header_key, &slot_tag);
    OPENSSL_cleanse(kek.data(), kek.size());
    h.append(phkh);
    h.append(wrapped);
    h.append(slot_tag);
    img.phkh.push_back(phkh);
  }
  ByteWriter enc(kEncryptedSize);
  enc.append(cck);
  enc.append(image_key);
  enc.be64(kPswMask);
  enc.be64(s3b.addr);
  enc.be64(f.scf);
  enc.be32(0);  // no optional items
  enc.be32(0);
  Bytes plain = enc.take();
  const Bytes sealed = gcm_encrypt(header_key, iv, h.bytes(), plain, &img.tag);
  OPENSSL_cleanse(plain.data(), plain.size());
  h.append(sealed);
  h.append(img.tag);
  img.header = h.take();

  // --- emit, in address order ---
  if (pvimg) ipib_off = next;
  ByteWriter ipib;
  ipib.be32(static_cast<std::uint32_t>(pvimg ? 8 + 0x80 + 24 * comps.size() : kPage));
  ipib.zeros(3);
  ipib.u8(1);  // IPL_PARM_BLOCK_VERSION
  ipib.be32(static_cast<std::uint32_t>(0x80 + 24 * comps.size()));
  ipib.u8(5);  // IPL_PBT_PV
  ipib.zeros(0x67 - 5);
  ipib.u8(pvimg ? 1 : 0);  // the PV block's version
  ipib.zeros(4);
  ipib.be32(static_cast<std::uint32_t>(comps.size()));
  ipib.be64(pvimg ? hdr_off : 0);  // genprotimg: stage3a sets it at run time
  ipib.be64(phs);
  for (const Component& c : comps) {
    ipib.be64(c.tweak_prefix());
    ipib.be64(c.addr);
    ipib.be64(c.size);
  }
  if (!pvimg) ipib.align(kPage);

  Bytes bytes;
  {
    ByteWriter head(static_cast<std::size_t>(comps.front().addr));
    head.be64(0x0008000000000000ull | kPswMask | kStage3aEntry);
    head.zeros(kStage3aLoad - 8);
    head.append(in.stage3a);
    bytes = head.take();
  }
  const std::uint64_t args_addr = kStage3aLoad + in.stage3a.size() - kStage3aArgs;
  {
    ByteWriter a;
    a.be64(hdr_off - args_addr);
    a.be64(phs);
    a.be64(ipib_off - args_addr);
    std::copy(a.bytes().begin(), a.bytes().end(),
              bytes.begin() + static_cast<std::ptrdiff_t>(args_addr));
  }
  if (pvimg) {
    ByteWriter m;
    m.append("SeImgLnx");
    m.be64(hdr_off);
    m.be32(1);
    m.be64(ipib_off);
    std::copy(m.bytes().begin(), m.bytes().end(),
              bytes.begin() + static_cast<std::ptrdiff_t>(kMetadataOffset));
  } else {
    bytes.resize(static_cast<std::size_t>(ipib_off), 0);
    bytes.insert(bytes.end(), ipib.bytes().begin(), ipib.bytes().end());
  }
  bytes.resize(static_cast<std::size_t>(hdr_off), 0);
  bytes.insert(bytes.end(), img.header.begin(), img.header.end());
  bytes.resize(static_cast<std::size_t>(comps.front().addr), 0);
  out.write(bytes);
  for (std::size_t i = 0; i < comps.size(); ++i)
    each_stored_chunk(sources[i], comps[i], encrypt ? &xts : nullptr, nullptr, in.release,
                      [&](std::span<const std::uint8_t> b) { out.write(b); });
  if (pvimg) {
    out.write(ipib.bytes());
    next += ipib.size();
  }
  img.header_offset = hdr_off;
  img.ipib_offset = ipib_off;
  img.image_size = next;
  img.components = std::move(comps);
  return img;
}

}  // namespace mkguest::se
