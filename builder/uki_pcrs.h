// The vTPM PCR predictions of a UKI (docs/pcr.md), derived from the UKI's
// bytes alone: its sections, its stub's version (.sdmagic), its Authenticode
// digests, .linux, .cmdline and .initrd. The build writes the result as
// measurements.tpm; `inspect` shows it; `verify` derives it again.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>

namespace mkguest {

// {stub: {version, rules}, pcr4: {bank: {qemu-kernel, disk}}, pcr9: {bank:
// {uki[, direct-qemu-ovmf]}}, pcr11: {bank: [{phase, value}]}, pcr12: {bank:
// value}, assumptions}. `direct`: also the direct boot of .linux/.initrd/
// .cmdline through QEMU and OVMF (PCR 9).
nlohmann::json predict_uki_pcrs(std::span<const std::uint8_t> uki, const std::string& name,
                                bool direct);

}  // namespace mkguest
