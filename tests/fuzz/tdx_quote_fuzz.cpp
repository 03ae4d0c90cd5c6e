// Fuzz target: the TDX DCAP quote v4 reader. Any input must parse or throw a
// mkguest Error; a parsed quote's signature data end the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "base/error.h"
#include "builder/formats/evidence/tdx_quote.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> b(data, size);
  try {
    const auto q = mkguest::evidence::parse_tdx_quote(b, "fuzz.dat");
    if (q.signature_data.size() + mkguest::evidence::kTdxQuoteHeaderSize +
            mkguest::evidence::kTdxQuoteBodySize + 4 !=
        size)
      std::abort();
  } catch (const mkguest::Error&) {
  }
  return 0;
}
