// Fuzz target: the TDX TDREPORT reader. Any input must parse or throw a
// mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "builder/formats/evidence/tdx_report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)mkguest::evidence::parse_tdx_report(std::span<const std::uint8_t>(data, size),
                                              "fuzz.bin");
  } catch (const mkguest::Error&) {
  }
  return 0;
}
