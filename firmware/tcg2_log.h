// The TCG2 crypto-agile event log, as both the TPM's firmware log
// (/sys/kernel/security/tpm0/binary_bios_measurements) and TDX's CC event log
// (ACPI CCEL) carry it. Spec: TCG PC Client Platform Firmware Profile 1.05
// §10.2.1 (TCG_PCR_EVENT), §10.4.5.1 (TCG_EfiSpecIDEvent), §10.2.2
// (TCG_PCR_EVENT2). Layout: one SHA-1-format header record (u32 index 0,
// u32 type EV_NO_ACTION, 20 zero bytes, u32 size, TCG_EfiSpecIDEvent:
// "Spec ID Event03\0", u32 platform class, u8 minor, major, errata, uintn
// size, u32 count, count x {u16 alg, u16 digest size}, u8 vendor size,
// vendor bytes), then TCG_PCR_EVENT2 records (u32 index, u32 type, u32
// count, count x {u16 alg, digest}, u32 size, data). This is the one reader
// of that format: firmware/ccel.* and builder/formats/evidence/tcg_log.*
// apply their own rules on top of it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/digest.h"

namespace mkguest::tcg {

constexpr std::uint32_t kEvNoAction = 0x3;

struct Algorithm {
  std::uint16_t id = 0;    // TPM_ALG_ID (0x0004 SHA-1, 0x000b SHA-256, ...)
  std::uint16_t size = 0;  // digest bytes, as the Spec ID event declares them
};

struct Record {
  std::uint64_t offset = 0;  // file offset of the record
  std::uint32_t index = 0;   // PCR index (CCEL: MR index)
  std::uint32_t type = 0;
  std::vector<std::pair<std::uint16_t, Bytes>> digests;  // in the record's order
  Bytes data;
  // The digest of algorithm `id`, or nullptr.
  const Bytes* digest(std::uint16_t id) const;
};

struct Log {
  std::vector<Algorithm> algorithms;  // the Spec ID event's list
  std::vector<Record> events;         // excludes the header record
};

struct ParseRules {
  // The log area's unused tail may be 0xFF or 0x00 filled (CCEL), and a
  // record index of 0xFFFFFFFF ends the log.
  bool filler_tail = false;
  // Every record carries exactly one digest of each declared algorithm, in
  // any order (PC Client logs); otherwise up to 16 digests of declared ones.
  bool all_algorithms = false;
};

// Parses the header and every record; errors name the absolute offset.
// Refused: a header that is not "Spec ID Event03", more than 16 or no
// algorithms, a digest size outside 1..64 or not the known size of a known
// algorithm (SHA-1/256/384/512, SM3-256), an algorithm declared twice, a
// record digest of an undeclared algorithm or twice the same one, an event
// larger than 16 MiB, and any truncation.
Log parse_log(std::span<const std::uint8_t> bytes, const std::string& source,
              const ParseRules& rules);

// The known algorithms: TPM_ALG_ID of a HashAlg, and back (false: not one).
std::uint16_t tpm_alg_id(HashAlg alg);
bool hash_alg_of(std::uint16_t id, HashAlg* out);

}  // namespace mkguest::tcg
