// The TPM's firmware event log as Linux exports it
// (/sys/kernel/security/tpm0/binary_bios_measurements): the TCG PC Client
// Platform Firmware Profile 1.05+ crypto-agile log. Layout (firmware/tcg2_log.h,
// the one reader of the format): a SHA-1-format header record with the
// "Spec ID Event03" algorithm list, then TCG_PCR_EVENT2 records. PC Client
// rules on top: every record carries one digest of each declared algorithm
// (§10.2.2), PCR indices 0..23, nothing after the last record, and an
// EV_NO_ACTION "StartupLocality" event (§10.4.5.3) sets PCR 0's starting value.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"

namespace mkguest::evidence {

constexpr std::uint32_t kTpmPcrCount = 24;

struct TpmEvent {
  std::uint64_t offset = 0;  // file offset of the record
  std::uint32_t pcr = 0;
  std::uint32_t type = 0;
  std::map<HashAlg, Bytes> digests;  // the banks mkguest knows (SM3 is skipped)
  Bytes data;
};

struct TpmEventLog {
  std::vector<HashAlg> banks;    // the declared algorithms mkguest knows, in header order
  std::vector<TpmEvent> events;  // excludes the header record
  std::uint8_t startup_locality = 0;
};

// True when `bytes` starts like a crypto-agile log (index 0, EV_NO_ACTION,
// "Spec ID Event03" at offset 32): how `explain` recognises one.
bool looks_like_tcg_log(std::span<const std::uint8_t> bytes);

TpmEventLog parse_tcg_log(std::span<const std::uint8_t> bytes, const std::string& source);

// Replays the log into each bank's 24 PCRs: every event but EV_NO_ACTION
// extends its PCR by its digest; PCR 0 starts at the startup locality.
std::map<HashAlg, std::array<Bytes, kTpmPcrCount>> replay_tcg_log(const TpmEventLog& log);

// "EV_EFI_ACTION", or "event type 0x..." for one mkguest does not name.
std::string tcg_event_type_name(std::uint32_t type);

}  // namespace mkguest::evidence
