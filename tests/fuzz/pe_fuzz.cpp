// Fuzz target: the PE/COFF header reader and the Authenticode digest over
// whatever parsed. Any input must parse or throw a mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "builder/formats/pe/authenticode.h"
#include "builder/formats/pe/image.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> b(data, size);
  try {
    const mkguest::pe::PeImage p = mkguest::pe::parse_pe_image(b, "fuzz.efi");
    for (const auto& s : p.sections) (void)mkguest::pe::section_data(b, s);
    (void)mkguest::pe::authenticode_digest(b, "fuzz.efi", mkguest::HashAlg::kSha256);
  } catch (const mkguest::Error&) {
  }
  return 0;
}
