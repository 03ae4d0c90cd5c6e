// Fuzz target: the TDVF metadata parser (through the OVMF footer table or
// the legacy pointer) and MRTD over whatever parsed, in both page orders.
// Any input must parse or throw a mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "firmware/tdvf.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> b(data, size);
  try {
    const auto md = mkguest::tdx::parse_tdvf(b, "fuzz.fd");
    (void)mkguest::tdx::compute_mrtd(b, md, mkguest::tdx::PageOrder::kSinglePass);
    (void)mkguest::tdx::compute_mrtd(b, md, mkguest::tdx::PageOrder::kTwoPass);
  } catch (const mkguest::Error&) {
  }
  return 0;
}
