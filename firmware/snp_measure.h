// AMD SEV, SEV-ES and SEV-SNP launch digests (SEV-SNP ABI, SNP_LAUNCH_UPDATE
// PAGE_INFO; QEMU/KVM launch order), compatible with sev-snp-measure 0.0.13.
//
// SNP: LD starts as 48 zero bytes (or a given OVMF hash); every 4 KiB page
// sets LD = SHA-384(PAGE_INFO), PAGE_INFO being 0x70 bytes:
//   0x00 LD  0x30 contents (SHA-384 of the page, or zeros)  0x60 u16 0x70
//   0x62 u8 page type  0x63 u8 IMI 0  0x64 3 x u8 VMPL perms 0, u8 0  0x68 u64 GPA
// Order: OVMF as NORMAL pages at 4 GiB - size, the metadata sections in file
// order, then one VMSA page per vCPU at GPA 0xFFFFFFFFF000.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "firmware/sev_metadata.h"

namespace mkguest {

enum class SevMode { kSev, kSevEs, kSnp, kSnpSvsm };
enum class VmmType { kQemu, kEc2, kGce };

// "EPYC-Milan" etc. -> CPUID 1 EAX signature; false if unknown.
bool snp_vcpu_signature(const std::string& type, std::uint32_t* sig);
std::vector<std::string> snp_vcpu_types();
std::uint32_t snp_cpu_signature(std::uint32_t family, std::uint32_t model, std::uint32_t stepping);

// The padded 176-byte SEV hashes table for measured direct boot. The cmdline
// is hashed with a terminating NUL; an empty cmdline is hashed as "\0".
struct SevHashes {
  Bytes kernel_sha256;
  Bytes initrd_sha256;  // of the empty string when there is no initrd
  Bytes cmdline_sha256;
};
SevHashes sev_hashes(std::span<const std::uint8_t> kernel, std::span<const std::uint8_t> initrd,
                     const std::string& cmdline);
// The same from digests computed elsewhere (e.g. streamed from files).
SevHashes sev_hashes_from(Bytes kernel_sha256, Bytes initrd_sha256, const std::string& cmdline);
Bytes sev_hashes_table(const SevHashes& h);

// One 4096-byte VMSA page as KVM/QEMU (or EC2, GCE) sets it up at reset.
Bytes snp_vmsa(std::uint32_t eip, std::uint64_t sev_features, std::uint32_t vcpu_sig, VmmType vmm);
// The SVSM (Coconut) VMSA: 32-bit flat mode at the SVSM entry point.
Bytes snp_svsm_vmsa(std::uint32_t eip, std::uint32_t vcpu_sig);

struct SnpInputs {
  SevMode mode = SevMode::kSnp;
  VmmType vmm = VmmType::kQemu;
  std::uint32_t vcpus = 1;
  std::uint32_t vcpu_sig = 0;
  std::uint64_t guest_features = 0x1;
  std::optional<SevHashes> hashes;  // measured direct boot
  std::optional<Bytes> ovmf_hash;   // snp: start from this instead of the OVMF pages
  std::uint64_t vars_size = 0;      // snp:svsm
};

// The launch digest: 48 bytes for snp, 32 (SHA-256) for sev and seves.
// `firmware_name` names the firmware in errors. For snp:svsm, `svsm` is the
// SVSM binary and `svsm_fw` its parsed metadata.
Bytes snp_launch_digest(std::span<const std::uint8_t> ovmf, const SevFirmware& fw,
                        const SnpInputs& in, const std::string& firmware_name,
                        std::span<const std::uint8_t> svsm = {},
                        const SevFirmware* svsm_fw = nullptr);

// The digest of the OVMF pages alone (mode snp:ovmf-hash).
Bytes snp_ovmf_hash(std::span<const std::uint8_t> ovmf);

// SNP_LAUNCH_UPDATE page types (SEV-SNP ABI, PAGE_INFO.PAGE_TYPE).
enum class SnpPageType : std::uint8_t {
  kNormal = 1,
  kVmsa = 2,
  kZero = 3,
  kUnmeasured = 4,
  kSecrets = 5,
  kCpuid = 6,
};
// One launch-digest step: SHA-384 of the 0x70-byte PAGE_INFO {ld, contents
// (48 bytes: the page's SHA-384 for normal and VMSA pages, else zeros),
// 0x70, type, IMI 0, VMPL permissions 0, gpa}. The primitive every SNP digest
// here is built from (also IGVM's, builder/measure/igvm).
Bytes snp_page_info_digest(std::span<const std::uint8_t> ld, SnpPageType type, std::uint64_t gpa,
                           std::span<const std::uint8_t> contents);

}  // namespace mkguest
