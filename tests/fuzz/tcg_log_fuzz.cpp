// Fuzz target: the TPM event-log reader (binary_bios_measurements, over the
// shared TCG2 reader) and its replay, and the same bytes as tpm2_pcrread YAML
// and as a sysfs PCR file. Any input must parse or throw a mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/error.h"
#include "builder/formats/evidence/pcr_values.h"
#include "builder/formats/evidence/tcg_log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  try {
    const auto log = mkguest::evidence::parse_tcg_log(bytes, "fuzz.log");
    (void)mkguest::evidence::replay_tcg_log(log);
  } catch (const mkguest::Error&) {
  }
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)mkguest::evidence::parse_pcrread_yaml(text, "fuzz.yaml");
  } catch (const mkguest::Error&) {
  }
  try {
    (void)mkguest::evidence::parse_sysfs_pcr(text, "fuzz", mkguest::HashAlg::kSha256);
  } catch (const mkguest::Error&) {
  }
  return 0;
}
