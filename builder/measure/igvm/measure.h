// The launch measurements of an IGVM file, page by page, for one platform
// (docs/igvm.md §3):
//  - SEV-SNP launch digest: COCONUT igvmmeasure (coconut-svsm/svsm
//    tools/igvmmeasure/src/igvm_measure.rs, commit f4bc4bcd), which QEMU's
//    IGVM loader agrees with, except that a parameter insert measures every
//    page of its area as unmeasured, as QEMU and microsoft/igvm
//    igvm/src/measurement/snp.rs (commit e6c3ff1c) do; shared pages are
//    measured (snp.rs alone skips them);
//  - TDX MRTD: microsoft/igvm igvm/src/measurement/tdx.rs (commit e6c3ff1c):
//    MEM.PAGE.ADD per page, MR.EXTEND of its 16 chunks unless unmeasured.
// Pure functions of the parsed file; the spans of `File` point into its bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "builder/formats/igvm/reader.h"

namespace mkguest::igvm {

struct SnpMeasureOptions {
  // Measure a page without file data as a ZERO page (igvmmeasure
  // --native-zero) rather than as a NORMAL page of zeros.
  bool native_zero = false;
  // igvmmeasure --check-kvm: what QEMU/KVM can load: one VMSA, at GPA
  // 0xFFFFFFFFF000, CR0 0x30 or 0x31, and no parameter insert after it.
  bool check_kvm = false;
};

// A run of pages measured alike: the log of igvmmeasure --verbose.
struct MeasuredRange {
  std::uint64_t gpa = 0;
  std::uint64_t size = 0;
  std::string type;  // normal, zero, unmeasured, secrets, cpuid, vmsa (SNP); add, add+extend (TDX)
};

struct Measurement {
  std::string platform;  // "sev-snp" or "tdx"
  std::uint32_t compatibility_mask = 0;
  Bytes digest;  // 48 bytes
  std::uint64_t pages = 0;
  std::uint32_t vmsas = 0;
  std::vector<MeasuredRange> ranges;
  std::optional<std::uint64_t> guest_policy;  // IGVM_VHT_GUEST_POLICY for the platform
  std::optional<Bytes> id_block_ld;           // the LD of an SNP ID block for the platform
};

// Throw an InputError naming `source` when the file declares no such
// platform, or (check_kvm) breaks a QEMU/KVM rule.
Measurement measure_snp(const File& f, const SnpMeasureOptions& o, const std::string& source);
Measurement measure_tdx(const File& f, const std::string& source);

}  // namespace mkguest::igvm
