// Fuzz target: OVMF footer table + SEV metadata parsing, and the SNP launch
// digest over whatever parsed. Any input must parse or throw a mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "firmware/snp_measure.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> b(data, size);
  try {
    mkguest::ByteReader r(b, "fuzz.fd");
    mkguest::SevFirmware fw = mkguest::parse_sev_firmware(r);
    mkguest::SnpInputs in;
    in.vcpus = 2;
    in.vcpu_sig = 0xa00f11;
    mkguest::snp_launch_digest(b, fw, in, "fuzz.fd");
  } catch (const mkguest::Error&) {
  }
  return 0;
}
