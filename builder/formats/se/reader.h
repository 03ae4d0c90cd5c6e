// Reads IBM Secure Execution images and bare headers (hdr.bin) strictly
// (layout: se_image.h, docs/se.md): the header v1 fields, the IPIB's
// component table, and, given the header key or a host private key, the
// key slot, the header's GCM tag, the secret part and the decrypted
// components. PLD, ALD, TLD and NEP are recomputed from the image's own
// bytes and compared with the header.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/error.h"
#include "builder/formats/se/crypto.h"

namespace mkguest::se {

struct KeySlot {
  Bytes phkh, wrapped, tag;
};

struct Header {
  std::uint64_t offset = 0;  // in the image (0 for a bare header)
  std::uint32_t version = 0, phs = 0;
  Bytes iv;
  std::uint64_t nks = 0, sea = 0, nep = 0, pcf = 0;
  Bytes customer_public;  // x80 || y80
  Bytes pld, ald, tld, tag;
  std::vector<KeySlot> slots;
  std::span<const std::uint8_t> aad, encrypted, raw;  // views into the input
};

struct IpibComponent {
  std::uint64_t tweak_prefix = 0, addr = 0, size = 0;
};

// The data holds no SE header at all (rather than a damaged one): callers
// that look through files for SE images skip these.
class NoSeHeaderError : public InputError {
 public:
  using InputError::InputError;
};

struct Secret {  // the decrypted part of the header
  Bytes cck, image_key;
  std::uint64_t psw_mask = 0, psw_addr = 0, scf = 0;
  std::uint32_t noi = 0;
};

struct StageArgs {  // stage3b's {kernel, cmdline, initrd} memblobs and PSW
  std::array<std::uint64_t, 3> addr{}, size{};
  std::uint64_t psw_mask = 0, psw_addr = 0;
  std::uint64_t offset = 0;  // of the 64-byte block in stage3b = its original size - 64
};

struct Image {
  Header header;
  bool pvimg = false;  // pvimg's layout ("SeImgLnx" metadata at 0xc000)
  std::uint64_t ipib_offset = 0;
  std::vector<IpibComponent> components;
  // Recomputed from the image (PLD over the stored pages).
  Bytes pld, ald, tld;
  std::uint64_t nep = 0;
};

// A bare header (hdr.bin) or the header inside an image (the first page from
// 0x14000 on that starts with the magic, as pvextract-hdr finds it).
Header parse_header(std::span<const std::uint8_t> data, const std::string& source);
// A whole image: header, IPIB (the page before the header) and the layout
// checks; PLD/ALD/TLD/NEP recomputed.
Image parse_image(std::span<const std::uint8_t> data, const std::string& source);

// The header key, from the key slot that matches `host_private` (InputError
// when no slot matches or the slot does not open).
Bytes unwrap_header_key(const Header& h, EVP_PKEY* host_private, const std::string& source);
// Verifies the tag and decrypts; InputError when the tag does not verify.
Secret open_header(const Header& h, std::span<const std::uint8_t> header_key,
                   const std::string& source);
// The plaintext of component `i` (page-padded).
Bytes decrypt_component(const Image& img, std::span<const std::uint8_t> data, const Secret& secret,
                        std::size_t i);
// stage3b's arguments: the last 64 bytes of the original stage3b, found in
// its page-padded plaintext as the last block whose kernel memblob starts at
// the first component and whose PSW mask is EA|BA.
std::optional<StageArgs> find_stage3b_args(const Image& img,
                                           std::span<const std::uint8_t> stage3b_plain);

}  // namespace mkguest::se
