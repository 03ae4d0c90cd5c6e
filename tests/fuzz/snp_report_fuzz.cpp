// Fuzz target: the SEV-SNP attestation report reader. Any input must parse or
// throw a mkguest Error; a parsed report's signed bytes are its first 0x2A0.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "base/error.h"
#include "builder/formats/evidence/snp_report.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> b(data, size);
  try {
    const auto r = mkguest::evidence::parse_snp_report(b, "fuzz.bin");
    if (r.signed_bytes.size() != mkguest::evidence::kSnpSignedSize) std::abort();
  } catch (const mkguest::Error&) {
  }
  return 0;
}
