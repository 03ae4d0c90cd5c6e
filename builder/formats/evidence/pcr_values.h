// Quoted PCR values, as a guest reads them: the YAML `tpm2_pcrread` prints
// (tpm2-tools 5.x: one "  <bank>:" line per bank, then "    <N> : 0x<HEX>" per
// PCR), or the kernel's sysfs files /sys/class/tpm/tpm0/pcr-<bank>/<N> (Linux
// 6.6+: the digest in hex and a newline).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/digest.h"

namespace mkguest::evidence {

// bank -> PCR index -> value.
using PcrValues = std::map<HashAlg, std::map<unsigned, Bytes>>;

// `tpm2_pcrread` output. Strict: banks sha1/sha256/sha384/sha512, PCRs 0..23,
// each once, digests of the bank's size; errors name "file:LINE".
PcrValues parse_pcrread_yaml(std::string_view text, const std::string& source);

// One sysfs pcr-<bank>/<N> file: hex of the bank's size, then at most a newline.
Bytes parse_sysfs_pcr(std::string_view text, const std::string& source, HashAlg bank);

}  // namespace mkguest::evidence
