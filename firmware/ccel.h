// The TDX CC event log (ACPI CCEL log area): TCG2 crypto-agile format with
// SHA-384. Spec: TCG PC Client Platform Firmware Profile §10 (TCG_PCR_EVENT,
// TCG_EfiSpecIDEvent, TCG_PCR_EVENT2), UEFI 2.10 §38.4 (MR index = RTMR + 1),
// docs/specs/tdx.md §3. Layout: one SHA-1-format header event (EV_NO_ACTION carrying
// "Spec ID Event03" and the digest sizes), then TCG_PCR_EVENT2 records
// (u32 mr_index, u32 type, u32 count, count x {u16 alg, digest}, u32 size,
// data). The log area's unused tail is 0xFF (or 0x00) filled.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "firmware/tdx_events.h"

namespace mkguest::tdx {

struct LogEvent {
  std::uint64_t offset = 0;  // file offset of the record
  std::uint32_t mr_index = 0;
  std::uint32_t type = 0;
  Bytes sha384;  // empty for EV_NO_ACTION records without a SHA-384 digest
  Bytes data;
};

struct CcelLog {
  std::vector<LogEvent> events;  // excludes the Spec ID header
};

CcelLog parse_ccel(std::span<const std::uint8_t> log, const std::string& source);
// Replays the log: RTMR[mr_index - 1] extended by each non-EV_NO_ACTION event.
std::array<Bytes, 4> replay_ccel(const CcelLog& log, const std::string& source);
// Writes a CCEL log holding `events` (SHA-384 only), for tests and tools.
Bytes write_ccel(const std::vector<Event>& events);

struct Difference {
  int rtmr = 0;
  std::size_t index_in_rtmr = 0;  // position among that register's events
  std::uint64_t log_offset = 0;   // 0 when the log has no such event
  std::string message;
};

// Compares the log, register by register and event by event, with the
// expected events; RTMR3 is runtime and not compared.
std::vector<Difference> compare_ccel(const CcelLog& log, const std::vector<Event>& expected);

}  // namespace mkguest::tdx
