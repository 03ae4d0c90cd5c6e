// Fuzz target: the strict IGVM reader (builder/formats/igvm) and both
// measurements over whatever parsed (builder/measure/igvm), with and without
// the igvmmeasure options. Any input must parse or throw a mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "builder/formats/igvm/reader.h"
#include "builder/measure/igvm/measure.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> b(data, size);
  try {
    const auto f = mkguest::igvm::parse_igvm(b, "fuzz.igvm");
    for (bool zero : {false, true}) {
      try {
        (void)mkguest::igvm::measure_snp(f, {zero, !zero}, "fuzz.igvm");
      } catch (const mkguest::Error&) {
      }
    }
    (void)mkguest::igvm::measure_tdx(f, "fuzz.igvm");
  } catch (const mkguest::Error&) {
  }
  return 0;
}
