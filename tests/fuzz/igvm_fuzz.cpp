// Fuzz target: the strict IGVM reader (builder/formats/igvm). Any input must
// parse or throw a mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "builder/formats/igvm/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> b(data, size);
  try {
    (void)mkguest::igvm::parse_igvm(b, "fuzz.igvm");
  } catch (const mkguest::Error&) {
  }
  return 0;
}
