// The Intel TDX DCAP quote, version 4 (Intel "TDX DCAP Quoting Library API",
// appendix "Quote Format v4"; Linux configfs-tsm / TDX_CMD_GET_QUOTE output),
// little-endian:
//   header, 0x30 bytes:
//     0x00 u16 VERSION (4)   0x02 u16 ATTESTATION_KEY_TYPE (2 ECDSA P-256, 3 ECDSA P-384)
//     0x04 u32 TEE_TYPE (0x81 TDX; 0x00 is SGX)   0x08 u16 QE_SVN   0x0A u16 PCE_SVN
//     0x0C [16] QE_VENDOR_ID   0x1C [20] USER_DATA
//   TD quote body (the TDREPORT's TD10 fields), 0x248 bytes at 0x30:
//     +0x000 [16] TEE_TCB_SVN  +0x010 [48] MRSEAM  +0x040 [48] MRSIGNERSEAM
//     +0x070 u64 SEAMATTRIBUTES  +0x078 u64 TDATTRIBUTES  +0x080 u64 XFAM
//     +0x088 [48] MRTD  +0x0B8 [48] MRCONFIGID  +0x0E8 [48] MROWNER
//     +0x118 [48] MROWNERCONFIG  +0x148 4 x [48] RTMR0..3  +0x208 [64] REPORTDATA
//   0x278 u32 QUOTE_SIGNATURE_DATA_LEN, then that many bytes (ECDSA signature,
//         attestation key, QE certification data), which end the quote.
// The signature data are kept as bytes; this reader does not verify them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/digest.h"

namespace mkguest::evidence {

inline constexpr std::size_t kTdxQuoteHeaderSize = 0x30;
inline constexpr std::size_t kTdxQuoteBodySize = 0x248;
inline constexpr std::uint32_t kTdxTeeType = 0x81;

struct TdxQuote {
  std::uint16_t version = 0;
  std::uint16_t att_key_type = 0;
  std::uint32_t tee_type = 0;
  std::uint16_t qe_svn = 0;
  std::uint16_t pce_svn = 0;
  Bytes qe_vendor_id;  // 16
  Bytes user_data;     // 20
  Bytes tee_tcb_svn;   // 16
  Bytes mrseam;        // 48
  Bytes mrsignerseam;  // 48
  std::uint64_t seam_attributes = 0;
  std::uint64_t td_attributes = 0;
  std::uint64_t xfam = 0;
  Bytes mrtd;                 // 48
  Bytes mrconfigid;           // 48
  Bytes mrowner;              // 48
  Bytes mrownerconfig;        // 48
  std::array<Bytes, 4> rtmr;  // 48 each
  Bytes report_data;          // 64
  Bytes signature_data;       // QUOTE_SIGNATURE_DATA_LEN bytes
};

// Parses one quote. Throws InputError "source:0xOFF: error: ..." for a version
// other than 4, a TEE type other than TDX, an unknown attestation key type,
// and a signature-data length that does not end exactly at the end of the file.
TdxQuote parse_tdx_quote(std::span<const std::uint8_t> bytes, const std::string& source);

}  // namespace mkguest::evidence
