// Fuzz target: finding and parsing an IBM SE header (builder/attest/se_hdr.h)
// must either return a header within the input or throw InputError.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "base/error.h"
#include "builder/attest/se_hdr.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto h = mkguest::attest::find_se_header(std::span(data, size), "fuzz");
    if (h.offset > size || h.bytes.size() > size - h.offset) std::abort();
  } catch (const mkguest::InputError&) {
  }
  return 0;
}
