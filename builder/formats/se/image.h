// IBM Secure Execution boot images in the layout of genprotimg 2.35 (C),
// spec: docs/se.md. The file offset is the guest real address:
//
//   0x0       short PSW -> stage3a entry (0x0008000180011000)
//   0x10000   stage3a.bin; its last 24 bytes are {hdr_offs, hdr_size,
//             ipib_offs} (big-endian, relative to those args)
//   next page IPIB (1 page): pl_hdr {len 0x1000, version 1}, pb0_pv {len,
//             pbt 5, num_comp @0x6c, hdr_addr 0, hdr_size, comps[] @0x80 of
//             {tweak_pref, addr, len}}
//   next page SE header v1 (560 + 80 * key slots bytes, at most 2 pages)
//   next page components, each page-aligned: kernel, parmline (+NUL),
//             initrd, stage3b (its last 64 bytes: {kernel, cmdline, initrd}
//             memblobs {addr, size} and the kernel PSW)
//
// Header v1 (big-endian): magic "IBMSecEx", version 0x100, phs, IV[12], nks,
// sea, nep, pcf, customer P-521 public key x80||y80, PLD, ALD, TLD (SHA-512
// of the stored pages, their addresses, their tweaks), key slots {SHA-256 of
// the host key, GCM-wrapped header key, tag}, then AES-256-GCM (header key,
// AAD = everything before) of {CCK, XTS key, PSW, SCF, noi, res}, then the
// 16-byte tag. Components are AES-256-XTS encrypted page by page with the
// tweak [u16 type][6 random bytes][u64 offset in the component].
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/secret.h"
#include "base/sink.h"
#include "builder/formats/se/crypto.h"

namespace mkguest::se {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t msb0_bit(int nr) { return 1ull << (63 - nr); }
constexpr std::uint64_t kPcfAllowDump = msb0_bit(34);
constexpr std::uint64_t kPcfNoDecryption = msb0_bit(35);
constexpr std::uint64_t kPcfPckmoDea = msb0_bit(56), kPcfPckmoAes = msb0_bit(57),
                        kPcfPckmoEcc = msb0_bit(58);
constexpr std::uint64_t kDefaultPcf = kPcfPckmoDea | kPcfPckmoAes | kPcfPckmoEcc;  // 0xe0
constexpr std::uint64_t kScfCckExtensionSecret = msb0_bit(1);
constexpr std::uint64_t kPswMask = 0x0000000180000000ull;  // EA | BA
constexpr std::uint64_t kStage3aLoad = 0x10000, kStage3aEntry = 0x11000;
constexpr std::uint64_t kKernelEntry = 0x10000;
constexpr std::size_t kHeadSize = 0x1a0, kSlotSize = 80, kEncryptedSize = 128, kTagSize = 16;
constexpr std::size_t kMaxKeySlots = 95;
constexpr std::size_t kStage3aArgs = 24, kStage3bArgs = 64;
constexpr std::uint64_t kMagic = 0x49424d5365634578ull;  // "IBMSecEx"

enum class CompType { kKernel, kCmdline, kInitrd, kStage3b };
const char* comp_name(CompType t);

// genprotimg 2.35 (C) or pvimg (Rust, s390-tools 2.36+). pvimg orders the
// components kernel, initrd, parmline, stage3b; puts the header at
// max(page after stage3a, 0x14000) and the components after it; writes the
// IPIB (unpadded, with the header address and PV version 1) after stage3b and
// a 28-byte "SeImgLnx" block {u64 hdr_off, u32 version 1, u64 ipib_off} at
// 0xc000; its tweak prefixes start with 40/50/60/70 (kernel, initrd,
// parmline, stage3b) instead of 0/2/1/3; and it appends the parmline's NUL
// only when the parmfile does not already end with one.
enum class Layout { kGenprotimg, kPvimg };
// The first 16 bits of a component's tweak prefix.
std::uint16_t tweak_type(Layout l, CompType t);
constexpr std::uint64_t kMetadataOffset = 0xc000;

struct ImageInputs {
  std::span<const std::uint8_t> kernel;
  std::string kernel_name = "kernel";
  std::optional<Bytes> parmline;  // the parmfile's bytes; one NUL is always appended
  std::string parmline_name = "parmfile";
  std::optional<std::span<const std::uint8_t>> initrd;
  std::span<const std::uint8_t> stage3a, stage3b;
  std::string stage3a_name = "stage3a.bin", stage3b_name = "stage3b_reloc.bin";
  std::vector<EVP_PKEY*> host_keys;  // one key slot each, in this order
  // The checks pvimg makes: a raw (non-ELF) s390x kernel with "S390EP" at
  // 0x10008, and a parmline that fits its COMMAND_LINE_SIZE (u64 at 0x10430;
  // 0 means the legacy 896).
  bool component_check = true;
  // Called with each input range once it has been read (in both passes), so
  // that a caller that mapped its files can drop the pages (MappedFile::release).
  std::function<void(std::span<const std::uint8_t>)> release;
};

// Secrets and nonces. Missing ones are drawn from the Random, in this order:
// image key, CCK, header key, IV, ephemeral key, one 6-byte tweak part per
// component (genprotimg's order).
struct Secrets {
  std::optional<SecretBytes> image_key;   // 64 (AES-256-XTS)
  std::optional<SecretBytes> cck;         // 32 (customer communication key)
  std::optional<SecretBytes> header_key;  // 32 (AES-256-GCM of the header)
  std::optional<Bytes> iv;                // 12
  EVP_PKEY* ephemeral = nullptr;          // P-521 (tests)
  std::vector<Bytes> tweak_random;        // 6 bytes per component (tests)
};

struct Flags {
  Layout layout = Layout::kGenprotimg;
  std::uint64_t pcf = kDefaultPcf;
  std::uint64_t scf = 0;
  std::uint64_t kernel_psw_addr = kKernelEntry;  // what stage3b jumps to
};

struct Component {
  CompType type;
  std::uint64_t addr = 0, size = 0, orig_size = 0;  // size: page-aligned, at least one page
  std::array<std::uint8_t, 16> tweak{};             // of the first page
  Bytes sha256;                                     // of the original bytes (parmline: with NUL)
  std::uint64_t tweak_prefix() const;
};

struct BuiltImage {
  Layout layout = Layout::kGenprotimg;
  Bytes header;  // hdr.bin
  std::uint64_t header_offset = 0, ipib_offset = 0, image_size = 0;
  Bytes pld, ald, tld, tag;
  std::uint64_t nep = 0, pcf = 0, scf = 0;
  std::vector<Component> components;
  std::vector<Bytes> phkh;  // per key slot
};

// Plans, then writes the whole image to `out` (two passes over the
// components: the header's PLD needs their ciphertext first).
BuiltImage write_image(const ImageInputs& in, const Secrets& secrets, const Flags& flags,
                       Random& rnd, ByteSink& out);

}  // namespace mkguest::se
