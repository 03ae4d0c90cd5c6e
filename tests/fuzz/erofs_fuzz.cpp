// Fuzz target: the strict EROFS reader (builder/formats/erofs/reader.h). Any input
// must be read or rejected with a mkguest Error; never crash or loop.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "builder/formats/erofs/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    mkguest::read_erofs(std::span<const std::uint8_t>(data, size), "fuzz.erofs");
  } catch (const mkguest::Error&) {
  }
  return 0;
}
