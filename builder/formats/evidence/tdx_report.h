// The TDX TDREPORT (Intel TDX Module ABI, TDREPORT_STRUCT; what TDG.MR.REPORT
// writes and the Linux tdx_guest TDX_CMD_GET_REPORT0 ioctl returns): 1024
// bytes, little-endian.
//   REPORTMACSTRUCT, 0x100 bytes at 0x000:
//     0x00 REPORTTYPE: u8 TYPE (0x81 TDX), u8 SUBTYPE (0), u8 VERSION (0, or 1
//          with SERVTD_HASH), u8 MBZ   0x04 [12] MBZ   0x10 [16] CPUSVN
//     0x20 [48] TEE_TCB_INFO_HASH   0x50 [48] TEE_INFO_HASH   0x80 [64] REPORTDATA
//     0xC0 [32] MBZ   0xE0 [32] MAC
//   TEE_TCB_INFO, 0xEF bytes at 0x100: [8] VALID, [16] TEE_TCB_SVN, [48] MRSEAM,
//     [48] MRSIGNERSEAM, [8] ATTRIBUTES, then fields of newer modules
//   0x1EF [17] MBZ
//   TDINFO, 0x200 bytes at 0x200: u64 ATTRIBUTES, u64 XFAM, [48] MRTD,
//     [48] MRCONFIGID, [48] MROWNER, [48] MROWNERCONFIG, 4 x [48] RTMR0..3,
//     [48] SERVTD_HASH, [64] MBZ
// The MAC is kept, not checked (only the TDX module's key can).
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "builder/formats/evidence/tdx_quote.h"

namespace mkguest::evidence {

inline constexpr std::size_t kTdxReportSize = 1024;

struct TdxReport {
  std::uint8_t type = 0, subtype = 0, version = 0;
  Bytes cpusvn;             // 16
  Bytes tee_tcb_info_hash;  // 48
  Bytes tee_info_hash;      // 48
  Bytes mac;                // 32
  Bytes servtd_hash;        // 48
  // The fields a quote body carries too (header fields left zero, version 0).
  TdxQuote body;
};

// Parses one TDREPORT. Throws InputError "source:0xOFF: error: ..." for a wrong
// size, a type other than TDX, an unknown subtype or version, and any non-zero
// reserved byte.
TdxReport parse_tdx_report(std::span<const std::uint8_t> bytes, const std::string& source);

}  // namespace mkguest::evidence
