// The SEV-SNP attestation report reader (SEV-SNP Firmware ABI 1.58, table
// "ATTESTATION_REPORT Structure"; layout in snp_report.h). Every field is
// read through ByteReader at its absolute offset; every reserved range must be
// zero, as the table says, so a report of an unknown layout is refused rather
// than misread.
#include "builder/formats/evidence/snp_report.h"

#include <cstdio>

#include "base/byte_reader.h"
#include "base/error.h"
#include "builder/formats/evidence/fields.h"

namespace mkguest::evidence {
namespace {

// Family 1Ah (Turin) moved the TCB_VERSION fields and added FMC.
constexpr std::uint8_t kFamilyTurin = 0x1A;

SnpTcb decode_tcb(const ByteReader& r, std::size_t off, bool turin) {
  SnpTcb t;
  t.raw = r.le64(off);
  if (turin) {
    t.fmc = r.u8(off);
    t.boot_loader = r.u8(off + 1);
    t.tee = r.u8(off + 2);
    t.snp = r.u8(off + 3);
  } else {
    t.boot_loader = r.u8(off);
    t.tee = r.u8(off + 1);
    t.snp = r.u8(off + 6);
  }
  t.microcode = r.u8(off + 7);
  return t;
}

std::string hex32(std::uint64_t v) {
  char s[24];
  std::snprintf(s, sizeof s, "0x%llx", static_cast<unsigned long long>(v));
  return s;
}

}  // namespace

std::string snp_signing_key_name(std::uint8_t key) {
  switch (key) {
    case 0:
      return "VCEK";
    case 1:
      return "VLEK";
    case 7:
      return "none";
    default:
      return "reserved (" + std::to_string(key) + ")";
  }
}

SnpReport parse_snp_report(std::span<const std::uint8_t> bytes, const std::string& source) {
  const ByteReader r(bytes, source);
  if (bytes.size() != kSnpReportSize)
    r.fail(bytes.size() < kSnpReportSize ? bytes.size() : kSnpReportSize,
           "an SEV-SNP attestation report is " + hex32(kSnpReportSize) + " bytes, this file is " +
               hex32(bytes.size()));
  SnpReport p;
  p.version = r.le32(0x000);
  if (p.version != 2 && p.version != 3 && p.version != 5)
    r.fail(0x000, "attestation report VERSION " + std::to_string(p.version) +
                      " is not one this reader knows (2, 3 or 5)");
  p.guest_svn = r.le32(0x004);
  p.policy = r.le64(0x008);
  p.family_id = copy(r, 0x010, 16);
  p.image_id = copy(r, 0x020, 16);
  p.vmpl = r.le32(0x030);
  // 0..3 from a guest's MSG_REPORT_REQ; 0xFFFFFFFF when the host requested it.
  if (p.vmpl > 3 && p.vmpl != 0xFFFFFFFFu)
    r.fail(0x030, "VMPL " + std::to_string(p.vmpl) + " is out of range (0 to 3)");
  p.signature_algo = r.le32(0x034);
  if (p.signature_algo != kSnpSigEcdsaP384Sha384)
    r.fail(0x034, "SIGNATURE_ALGO " + hex32(p.signature_algo) +
                      " is not ECDSA P-384 with SHA-384 (1), the only one defined");
  const bool with_cpuid = p.version >= 3;
  if (with_cpuid) {
    p.cpuid_fam_id = r.u8(0x188);
    p.cpuid_mod_id = r.u8(0x189);
    p.cpuid_step = r.u8(0x18A);
  }
  const bool turin = p.cpuid_fam_id && *p.cpuid_fam_id == kFamilyTurin;
  p.current_tcb = decode_tcb(r, 0x038, turin);
  p.platform_info = r.le64(0x040);
  const std::uint32_t flags = r.le32(0x048);
  if (flags >> 5)
    r.fail(0x048, "bits 31:5 of the key-information word are reserved and must be zero, found " +
                      hex32(flags));
  p.author_key_en = flags & 1;
  p.mask_chip_key = (flags >> 1) & 1;
  p.signing_key = static_cast<std::uint8_t>((flags >> 2) & 7);
  if (p.signing_key != 0 && p.signing_key != 1 && p.signing_key != 7)
    r.fail(0x048, "SIGNING_KEY " + std::to_string(p.signing_key) +
                      " is reserved (0 VCEK, 1 VLEK, 7 none)");
  must_be_zero(r, 0x04C, 4, "the word after the key information");
  p.report_data = copy(r, 0x050, 64);
  p.measurement = copy(r, 0x090, 48);
  p.host_data = copy(r, 0x0C0, 32);
  p.id_key_digest = copy(r, 0x0E0, 48);
  p.author_key_digest = copy(r, 0x110, 48);
  p.report_id = copy(r, 0x140, 32);
  p.report_id_ma = copy(r, 0x160, 32);
  p.reported_tcb = decode_tcb(r, 0x180, turin);
  if (with_cpuid)
    must_be_zero(r, 0x18B, 0x1A0 - 0x18B, "0x18b..0x19f");
  else
    must_be_zero(r, 0x188, 0x1A0 - 0x188, "0x188..0x19f (version 2)");
  p.chip_id = copy(r, 0x1A0, 64);
  p.committed_tcb = decode_tcb(r, 0x1E0, turin);
  p.current_build = r.u8(0x1E8);
  p.current_minor = r.u8(0x1E9);
  p.current_major = r.u8(0x1EA);
  must_be_zero(r, 0x1EB, 1, "the byte after CURRENT_MAJOR");
  p.committed_build = r.u8(0x1EC);
  p.committed_minor = r.u8(0x1ED);
  p.committed_major = r.u8(0x1EE);
  must_be_zero(r, 0x1EF, 1, "the byte after COMMITTED_MAJOR");
  p.launch_tcb = decode_tcb(r, 0x1F0, turin);
  if (p.version >= 5) {
    p.launch_mit_vector = r.le64(0x1F8);
    p.current_mit_vector = r.le64(0x200);
    must_be_zero(r, 0x208, kSnpSignedSize - 0x208, "0x208..0x29f");
  } else {
    must_be_zero(r, 0x1F8, kSnpSignedSize - 0x1F8, "0x1f8..0x29f (before version 5)");
  }
  p.signature_r = copy(r, 0x2A0, 72);
  p.signature_s = copy(r, 0x2E8, 72);
  must_be_zero(r, 0x330, kSnpReportSize - 0x330, "the signature's 0x330..0x49f");
  p.signed_bytes = copy(r, 0, kSnpSignedSize);
  return p;
}

}  // namespace mkguest::evidence
