// The vTPM PCR predictions of a UKI (docs/pcr.md), derived from the UKI's
// bytes alone: its sections, its stub's version (.sdmagic), its Authenticode
// digests, .linux, .cmdline and .initrd. The build writes the result as
// measurements.tpm; `inspect` shows it; `verify` derives it again.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "firmware/tpm_pcr.h"

namespace mkguest {

// {stub: {version, rules}, pcr4: {bank: {qemu-kernel, disk}}, pcr9: {bank:
// {uki[, direct-qemu-ovmf]}}, pcr11: {bank: [{phase, value}]}, pcr12: {bank:
// value}, assumptions}. A multi-profile UKI (.profile sections) also gets
// pcr11-profiles: [{profile: N, id, pcr11: {bank: [{phase, value}]}}], each
// over the sections the stub measures for profile N (profile_view); pcr11
// is then profile 0's. `direct`: also the direct boot of .linux/.initrd/
// .cmdline through QEMU and OVMF (PCR 9).
// `direct_ram_mib`: guest RAM sizes for which PCR 4 of that direct boot is
// predicted too ("direct-qemu-ovmf-<N>M"; QEMU <= 9 edits the setup header).
nlohmann::json predict_uki_pcrs(std::span<const std::uint8_t> uki, const std::string& name,
                                bool direct, const std::vector<std::uint64_t>& direct_ram_mib = {});

// The events a boot of the UKI logs in `bank`, in log order per register,
// that measurements.tpm replays: PCR 4 along `path` ("qemu-kernel" or
// "disk", docs/pcr.md), PCR 9 (the kernel's LoadOptions and initrd; none with
// .pcrpkey), PCR 11 (the stub's sections of profile 0). predict_uki_pcrs's
// pcr4, pcr9.uki and pcr11 are these events replayed.
std::vector<tpm::PcrEvent> predict_uki_events(std::span<const std::uint8_t> uki,
                                              const std::string& name, HashAlg bank,
                                              const std::string& path);

}  // namespace mkguest
