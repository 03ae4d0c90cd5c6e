// Fuzz target: the dpkg status parser (builder/fstree/dpkg_status.h) must either
// return packages or throw InputError, on any input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "builder/fstree/dpkg_status.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto pkgs = mkguest::attest::parse_dpkg_status(std::span(data, size), "fuzz");
    for (const auto& p : pkgs) (void)p.installed();
  } catch (const mkguest::InputError&) {
  }
  return 0;
}
