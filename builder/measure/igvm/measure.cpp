// IGVM launch measurements (see measure.h and docs/igvm.md §3), built from
// the firmware primitives that `measure snp` and `measure tdx` use:
// snp_page_info_digest (firmware/snp_measure.h) and mrtd_page_add /
// mrtd_extend (firmware/tdvf.h).
#include "builder/measure/igvm/measure.h"

#include <array>

#include "base/byte_reader.h"
#include "base/error.h"
#include "firmware/snp_measure.h"
#include "firmware/tdvf.h"

namespace mkguest::igvm {
namespace {

constexpr std::uint64_t kKvmVmsaGpa = 0xFFFFFFFFF000ull;
constexpr std::size_t kVmsaCr0 = 0x158;  // SevVmsa.cr0 (AMD APM vol. 2, VMSA layout)
constexpr std::size_t kIdBlockLd = 8;    // IGVM_VHS_SNP_ID_BLOCK.ld
constexpr std::size_t kIdBlockLdSize = 48;

class Log {
 public:
  explicit Log(Measurement& m) : m_(m) {}
  void page(std::uint64_t gpa, const char* type) {
    ++m_.pages;
    auto& r = m_.ranges;
    if (!r.empty() && r.back().type == type && r.back().gpa + r.back().size == gpa) {
      r.back().size += kPageSize;
      return;
    }
    r.push_back({gpa, kPageSize, type});
  }

 private:
  Measurement& m_;
};

std::uint32_t platform_mask(const File& f, std::uint8_t type, const std::string& source,
                            Measurement& m) {
  const auto mask = f.mask_of(type);
  if (!mask)
    throw file_error(source, "the IGVM file declares no " + std::string(platform_name(type)) +
                                 " platform (IGVM_VHT_SUPPORTED_PLATFORM)");
  m.platform = std::string(platform_name(type));
  m.compatibility_mask = *mask;
  for (const auto& h : f.initializations)
    if (h.type == kVhtGuestPolicy && (h.compatibility_mask & *mask)) m.guest_policy = h.policy;
  return *mask;
}

// The 4 KiB pages of a page-data directive: one, or 512 for a 2 MiB page.
std::uint64_t page_count(const Header& h) {
  return (h.flags & kPageFlag2M) ? kPageSize2M / kPageSize : 1;
}

}  // namespace

Measurement measure_snp(const File& f, const SnpMeasureOptions& o, const std::string& source) {
  Measurement m;
  const std::uint32_t mask = platform_mask(f, kPlatformSevSnp, source, m);
  Log log(m);
  Bytes ld(48, 0);
  const Bytes zeros48(48, 0);
  const Bytes zero_page(kPageSize, 0);
  const Bytes zero_page_digest = digest(HashAlg::kSha384, zero_page);
  auto step = [&](SnpPageType type, std::uint64_t gpa, const Bytes& contents, const char* name) {
    ld = snp_page_info_digest(ld, type, gpa, contents);
    log.page(gpa, name);
  };
  for (const auto& h : f.directives) {
    if (!h.known || !h.has_mask || (h.compatibility_mask & mask) == 0) continue;
    const ByteReader at(h.body, source, h.offset + 8);
    switch (h.type) {
      case kVhtPageData: {
        // A shared page is measured like any other: QEMU's IGVM loader and
        // igvmmeasure ignore the flag (microsoft/igvm's snp.rs skips it).
        for (std::uint64_t i = 0; i < page_count(h); ++i) {
          const std::uint64_t gpa = h.gpa + i * kPageSize;
          if (h.data_type == kPageSecrets) {
            step(SnpPageType::kSecrets, gpa, zeros48, "secrets");
          } else if (h.data_type == kPageCpuidData || h.data_type == kPageCpuidXf) {
            step(SnpPageType::kCpuid, gpa, zeros48, "cpuid");
          } else if (h.flags & kPageFlagUnmeasured) {
            step(SnpPageType::kUnmeasured, gpa, zeros48, "unmeasured");
          } else if (h.data.empty()) {
            if (o.native_zero)
              step(SnpPageType::kZero, gpa, zeros48, "zero");
            else
              step(SnpPageType::kNormal, gpa, zero_page_digest, "normal");
          } else {
            step(SnpPageType::kNormal, gpa, digest(HashAlg::kSha384, h.data), "normal");
          }
        }
        break;
      }
      case kVhtParameterInsert:
        if (o.check_kvm && m.vmsas > 0)
          at.fail(0,
                  "--check-kvm: a parameter insert after the VMSA (QEMU/KVM measures the "
                  "VMSA last)");
        for (std::uint64_t off = 0; off < h.size; off += kPageSize)
          step(SnpPageType::kUnmeasured, h.gpa + off, zeros48, "unmeasured");
        break;
      case kVhtVpContext: {
        if (h.platform_type != kPlatformSevSnp) break;
        if (o.check_kvm) {
          if (m.vmsas > 0) at.fail(16, "--check-kvm: QEMU/KVM sets only the first vCPU's VMSA");
          if (h.gpa != kKvmVmsaGpa)
            at.fail(0, "--check-kvm: the VMSA GPA " + hex_offset(h.gpa) +
                           " is not KVM's 0xfffffffff000");
          const ByteReader vmsa(h.data, source, h.file_offset);
          const std::uint64_t cr0 = vmsa.le64(kVmsaCr0);
          if (cr0 != 0x31 && cr0 != 0x30)
            vmsa.fail(kVmsaCr0,
                      "--check-kvm: VMSA CR0 " + hex_offset(cr0) + " (KVM sets 0x30 or 0x31)");
        }
        step(SnpPageType::kVmsa, h.gpa, digest(HashAlg::kSha384, h.data), "vmsa");
        ++m.vmsas;
        break;
      }
      case kVhtSnpIdBlock: {
        const auto b = h.body.subspan(kIdBlockLd, kIdBlockLdSize);
        m.id_block_ld = Bytes(b.begin(), b.end());
        break;
      }
      default:
        break;
    }
  }
  m.digest = ld;
  return m;
}

Measurement measure_tdx(const File& f, const std::string& source) {
  Measurement m;
  const std::uint32_t mask = platform_mask(f, kPlatformTdx, source, m);
  Log log(m);
  Hasher h384(HashAlg::kSha384);
  std::array<std::uint8_t, kPageSize> page{};
  for (const auto& h : f.directives) {
    if (!h.known || !h.has_mask || (h.compatibility_mask & mask) == 0) continue;
    if (h.type == kVhtPageData) {
      if (h.flags & kPageFlagShared) continue;
      const bool extend = !(h.flags & kPageFlagUnmeasured);
      for (std::uint64_t i = 0; i < page_count(h); ++i) {
        const std::uint64_t gpa = h.gpa + i * kPageSize;
        tdx::mrtd_page_add(h384, gpa);
        if (extend) {
          page.fill(0);
          std::copy(h.data.begin(), h.data.end(), page.begin());
          for (std::size_t c = 0; c < kPageSize; c += 256)
            tdx::mrtd_extend(h384, gpa + c, std::span<const std::uint8_t>(page).subspan(c, 256));
        }
        log.page(gpa, extend ? "add+extend" : "add");
      }
    } else if (h.type == kVhtParameterInsert) {
      for (std::uint64_t off = 0; off < h.size; off += kPageSize) {
        tdx::mrtd_page_add(h384, h.gpa + off);
        log.page(h.gpa + off, "add");
      }
    }
  }
  m.digest = h384.finish();
  return m;
}

}  // namespace mkguest::igvm
