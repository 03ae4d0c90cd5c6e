// The SEV-SNP attestation report: AMD "SEV Secure Nested Paging Firmware ABI
// Specification" (publication 56860) revision 1.58, table
// "ATTESTATION_REPORT Structure", as the guest gets it from MSG_REPORT_REQ and
// `snpguest report` writes it: 0x4A0 bytes, little-endian, versions 2, 3, 5.
//   0x000 u32 VERSION           0x004 u32 GUEST_SVN        0x008 u64 POLICY
//   0x010 [16] FAMILY_ID        0x020 [16] IMAGE_ID        0x030 u32 VMPL
//   0x034 u32 SIGNATURE_ALGO    0x038 u64 CURRENT_TCB      0x040 u64 PLATFORM_INFO
//   0x048 u32 bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY, 31:5 MBZ
//   0x04C u32 MBZ               0x050 [64] REPORT_DATA     0x090 [48] MEASUREMENT
//   0x0C0 [32] HOST_DATA        0x0E0 [48] ID_KEY_DIGEST   0x110 [48] AUTHOR_KEY_DIGEST
//   0x140 [32] REPORT_ID        0x160 [32] REPORT_ID_MA    0x180 u64 REPORTED_TCB
//   0x188 u8 CPUID_FAM_ID, 0x189 u8 CPUID_MOD_ID, 0x18A u8 CPUID_STEP (version >= 3;
//         MBZ in version 2), 0x18B..0x19F MBZ
//   0x1A0 [64] CHIP_ID          0x1E0 u64 COMMITTED_TCB
//   0x1E8 u8 CURRENT_BUILD, CURRENT_MINOR, CURRENT_MAJOR, u8 MBZ
//   0x1EC u8 COMMITTED_BUILD, COMMITTED_MINOR, COMMITTED_MAJOR, u8 MBZ
//   0x1F0 u64 LAUNCH_TCB
//   0x1F8 u64 LAUNCH_MIT_VECTOR, 0x200 u64 CURRENT_MIT_VECTOR (version >= 5; MBZ before)
//   ..0x29F MBZ                 0x2A0 SIGNATURE: [72] R, [72] S (little-endian), 368 MBZ
// The signature covers bytes 0x000..0x29F (SHA-384, ECDSA P-384 when
// SIGNATURE_ALGO is 1). A TCB_VERSION is 8 bytes: BOOT_LOADER, TEE, 4 reserved,
// SNP, MICROCODE; on family 1Ah (Turin) FMC, BOOT_LOADER, TEE, SNP, 3 reserved,
// MICROCODE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/digest.h"

namespace mkguest::evidence {

inline constexpr std::size_t kSnpReportSize = 0x4A0;
inline constexpr std::size_t kSnpSignedSize = 0x2A0;
inline constexpr std::uint32_t kSnpSigEcdsaP384Sha384 = 1;

// A TCB_VERSION, decoded in the layout of the report's CPU family.
struct SnpTcb {
  std::uint64_t raw = 0;
  std::optional<std::uint8_t> fmc;  // Turin only
  std::uint8_t boot_loader = 0;
  std::uint8_t tee = 0;
  std::uint8_t snp = 0;
  std::uint8_t microcode = 0;
};

struct SnpReport {
  std::uint32_t version = 0;
  std::uint32_t guest_svn = 0;
  std::uint64_t policy = 0;
  Bytes family_id;  // 16
  Bytes image_id;   // 16
  std::uint32_t vmpl = 0;
  std::uint32_t signature_algo = 0;
  SnpTcb current_tcb;
  std::uint64_t platform_info = 0;
  bool author_key_en = false;
  bool mask_chip_key = false;
  std::uint8_t signing_key = 0;  // 0 VCEK, 1 VLEK, 7 none
  Bytes report_data;             // 64
  Bytes measurement;             // 48
  Bytes host_data;               // 32
  Bytes id_key_digest;           // 48
  Bytes author_key_digest;       // 48
  Bytes report_id;               // 32
  Bytes report_id_ma;            // 32
  SnpTcb reported_tcb;
  std::optional<std::uint8_t> cpuid_fam_id;  // version >= 3
  std::optional<std::uint8_t> cpuid_mod_id;
  std::optional<std::uint8_t> cpuid_step;
  Bytes chip_id;  // 64
  SnpTcb committed_tcb;
  std::uint8_t current_build = 0, current_minor = 0, current_major = 0;
  std::uint8_t committed_build = 0, committed_minor = 0, committed_major = 0;
  SnpTcb launch_tcb;
  std::optional<std::uint64_t> launch_mit_vector;  // version >= 5
  std::optional<std::uint64_t> current_mit_vector;
  Bytes signature_r;   // 72, little-endian as stored
  Bytes signature_s;   // 72
  Bytes signed_bytes;  // bytes 0x000..0x29F, what the signature covers
};

// "VCEK", "VLEK", "none" or "reserved (N)".
std::string snp_signing_key_name(std::uint8_t key);

// Parses one report. Throws InputError "source:0xOFF: error: ..." for a wrong
// size, an unknown version or signature algorithm, a VMPL out of range and any
// reserved field that is not zero.
SnpReport parse_snp_report(std::span<const std::uint8_t> bytes, const std::string& source);

}  // namespace mkguest::evidence
