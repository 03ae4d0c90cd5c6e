// Fuzz target: the ELF dependency reader behind initrd.binaries. Any input
// must parse or throw a mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "builder/fstree/elf_deps.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)mkguest::parse_elf_deps(std::span<const std::uint8_t>(data, size), "fuzz.so");
  } catch (const mkguest::Error&) {
  }
  return 0;
}
