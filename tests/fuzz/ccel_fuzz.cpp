// Fuzz target: the CCEL (TCG2 crypto-agile, SHA-384) event-log parser and
// its replay. Any input must parse or throw a mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "firmware/ccel.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto log =
        mkguest::tdx::parse_ccel(std::span<const std::uint8_t>(data, size), "fuzz.log");
    (void)mkguest::tdx::replay_ccel(log, "fuzz.log");
  } catch (const mkguest::Error&) {
  }
  return 0;
}
