// The one entry point that makes a UKI (docs/uki.md): `mkguest uki build`
// and the build's uki stage both fill a UkiImageRequest and call
// build_uki_image, as `se build` and the se stage call se::build_image.
//
//   UkiContents --ukify_sections--> section list
//     [pcr]        sign_uki_profiles: .pcrsig of every profile (systemd-measure sign)
//                  and the section list again, now with .pcrsig
//     plan_uki     offsets, sizes, header growth (builder/formats/uki/writer.h)
//     write_uki    the bytes
//     [secureboot] sign_pe over the written image (Authenticode, PKCS#7)
//
// The callers own the inputs (the request's spans and the signers point into
// them) and the output's commit; this function reads no file, no environment
// and no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/sink.h"
#include "builder/formats/pe/sign.h"
#include "builder/formats/uki/sections.h"
#include "builder/formats/uki/writer.h"
#include "builder/keys/keys.h"

namespace mkguest {

// The signed PCR 11 policy (.pcrsig), as ukify --pcr-private-key makes it.
struct UkiPcrSigning {
  const keys::Signer* key = nullptr;
  std::vector<std::string> banks;   // empty: all four
  std::vector<std::string> phases;  // empty: systemd-measure's defaults
  // When given, checked to be the public half of `key` (errors name `public_key_display`).
  std::optional<std::span<const std::uint8_t>> public_key;
  std::string public_key_display;
};

// The Secure Boot signature over the whole image, as sbsign makes it.
struct UkiSecureBootSigning {
  const keys::Signer* key = nullptr;
  std::span<const std::uint8_t> certificate;  // PEM
  std::string certificate_display;
  PeSignOptions options;
};

struct UkiImageRequest {
  std::span<const std::uint8_t> stub;
  std::string stub_name;    // how errors name the stub
  std::string output_name;  // how errors name the image
  UkiContents contents;
  UkiOptions layout;
  std::optional<UkiPcrSigning> pcr;
  std::optional<UkiSecureBootSigning> secureboot;
};

struct UkiImage {
  UkiPlan plan;                    // the unsigned layout (its spans are dead after the call)
  std::uint64_t size = 0;          // the bytes written: plan.size, or the signed image's size
  std::string stub_version;        // systemd-stub's version, empty when it names none
  std::vector<std::string> notes;  // ukify's notes, e.g. a skipped --sbat text
};

// Writes the UKI of `req` into `out` (finished). Throws InputError for a bad
// stub, key or section, ValueError for a layout the stub cannot take (the
// caller places it).
UkiImage build_uki_image(UkiImageRequest req, ByteSink& out);

}  // namespace mkguest
