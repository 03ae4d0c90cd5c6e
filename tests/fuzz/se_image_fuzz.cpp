// Fuzz target: the IBM SE image and header reader (builder/formats/se/reader.h). Any
// input either parses into a header, IPIB and components that lie inside it,
// or throws InputError; decrypting the parsed components with some key and
// looking for stage3b's arguments must stay in bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "base/error.h"
#include "builder/formats/se/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  try {
    const mkguest::se::Header h = mkguest::se::parse_header(in, "fuzz");
    if (h.offset > size || h.phs > size - h.offset || h.slots.size() != h.nks) std::abort();
  } catch (const mkguest::InputError&) {
  }
  try {
    const mkguest::se::Image img = mkguest::se::parse_image(in, "fuzz");
    mkguest::se::Secret s;
    for (int i = 0; i < 64; ++i) s.image_key.push_back(static_cast<std::uint8_t>(i));
    for (std::size_t i = 0; i < img.components.size() && i < 4; ++i) {
      const auto& c = img.components[i];
      if (c.addr > size || c.size > size - c.addr) std::abort();
      if (c.size > (1u << 20)) continue;
      const mkguest::Bytes plain = mkguest::se::decrypt_component(img, in, s, i);
      if (plain.size() != c.size) std::abort();
      (void)mkguest::se::find_stage3b_args(img, plain);
    }
    try {
      (void)mkguest::se::open_header(img.header, mkguest::Bytes(32, 7), "fuzz");
    } catch (const mkguest::InputError&) {
    }
  } catch (const mkguest::InputError&) {
  }
  return 0;
}
