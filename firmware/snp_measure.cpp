#include "firmware/snp_measure.h"

#include <map>

#include "base/byte_writer.h"
#include "base/error.h"
#include "firmware/guid.h"

namespace mkguest {

namespace {

constexpr std::uint64_t kFourGiB = 0x100000000ull;
constexpr std::uint64_t kVmsaGpa = 0xFFFFFFFFF000ull;
constexpr std::uint32_t kBspEip = 0xfffffff0u;

// The SNP guest context: the running launch digest.
class Gctx {
 public:
  explicit Gctx(Bytes seed = Bytes(48, 0)) : ld_(std::move(seed)) {}
  const Bytes& ld() const { return ld_; }

  void update(SnpPageType type, std::uint64_t gpa, std::span<const std::uint8_t> contents) {
    ld_ = snp_page_info_digest(ld_, type, gpa, contents);
  }
  void normal_pages(std::uint64_t gpa, std::span<const std::uint8_t> data) {
    Hasher h(HashAlg::kSha384);
    std::uint8_t page_digest[48];
    for (std::size_t off = 0; off < data.size(); off += 4096) {
      h.update(data.subspan(off, 4096));
      h.finish(page_digest);
      update(SnpPageType::kNormal, gpa + off, {page_digest, 48});
    }
  }
  void empty_pages(SnpPageType type, std::uint64_t gpa, std::uint64_t size) {
    static const std::uint8_t zeros[48] = {};
    for (std::uint64_t off = 0; off < size; off += 4096) update(type, gpa + off, {zeros, 48});
  }
  void vmsa(const Bytes& page) {
    update(SnpPageType::kVmsa, kVmsaGpa, digest(HashAlg::kSha384, page));
  }

 private:
  Bytes ld_;
};

void put_seg(std::uint8_t* p, std::uint16_t sel, std::uint16_t attrib, std::uint32_t limit,
             std::uint64_t base) {
  store_le16(p, sel);
  store_le16(p + 2, attrib);
  store_le32(p + 4, limit);
  store_le64(p + 8, base);
}

void snp_sections(Gctx& g, const SevFirmware& fw, const SnpInputs& in, const std::string& name) {
  for (const auto& s : fw.sections) {
    switch (s.type) {
      case SevSectionType::kSnpSecMem:
        g.empty_pages(in.vmm == VmmType::kGce ? SnpPageType::kUnmeasured : SnpPageType::kZero,
                      s.gpa, s.size);
        break;
      case SevSectionType::kSnpSecrets:
        g.empty_pages(SnpPageType::kSecrets, s.gpa, 4096);
        break;
      case SevSectionType::kCpuid:
        if (in.vmm != VmmType::kEc2) g.empty_pages(SnpPageType::kCpuid, s.gpa, 4096);
        break;
      case SevSectionType::kSvsmCaa:
        g.empty_pages(SnpPageType::kZero, s.gpa, s.size);
        break;
      case SevSectionType::kSnpKernelHashes:
        if (in.hashes) {
          if (s.size != 4096) {
            throw offset_error(name, s.offset,
                               "SNP_KERNEL_HASHES section is " + std::to_string(s.size) +
                                   " bytes; measured direct boot needs exactly one page");
          }
          if (!fw.hash_table_gpa) {
            throw file_error(name, "the OVMF table has no SEV hashes table entry");
          }
          Bytes page(4096, 0);
          Bytes table = sev_hashes_table(*in.hashes);
          std::size_t at = *fw.hash_table_gpa & 0xfff;
          if (at + table.size() > page.size()) {
            throw file_error(name, "the SEV hashes table at GPA " + hex_offset(*fw.hash_table_gpa) +
                                       " crosses a page end");
          }
          std::copy(table.begin(), table.end(), page.begin() + static_cast<std::ptrdiff_t>(at));
          g.normal_pages(s.gpa, page);
        } else {
          g.empty_pages(SnpPageType::kZero, s.gpa, s.size);
        }
        break;
    }
  }
  if (in.vmm == VmmType::kEc2) {  // EC2 measures the CPUID page last
    for (const auto& s : fw.sections) {
      if (s.type == SevSectionType::kCpuid) g.empty_pages(SnpPageType::kCpuid, s.gpa, 4096);
    }
  }
  if (in.hashes && !fw.has_section(SevSectionType::kSnpKernelHashes)) {
    throw file_error(name,
                     "a kernel is given, but the OVMF metadata has no SNP_KERNEL_HASHES section "
                     "(measured direct boot needs an AmdSevX64 build)");
  }
}

}  // namespace

Bytes snp_page_info_digest(std::span<const std::uint8_t> ld, SnpPageType type, std::uint64_t gpa,
                           std::span<const std::uint8_t> contents) {
  if (ld.size() != 48 || contents.size() != 48)
    throw InternalError("PAGE_INFO digests are 48 bytes (SHA-384)");
  std::uint8_t info[0x70] = {};
  std::copy(ld.begin(), ld.end(), info);
  std::copy(contents.begin(), contents.end(), info + 0x30);
  store_le16(info + 0x60, 0x70);
  info[0x62] = static_cast<std::uint8_t>(type);
  store_le64(info + 0x68, gpa);
  return digest(HashAlg::kSha384, std::span<const std::uint8_t>(info, sizeof info));
}

std::uint32_t snp_cpu_signature(std::uint32_t family, std::uint32_t model, std::uint32_t stepping) {
  std::uint32_t fam_low = family > 0xf ? 0xf : family;
  std::uint32_t fam_high = family > 0xf ? ((family - 0xf) & 0xff) : 0;
  return fam_high << 20 | ((model >> 4) & 0xf) << 16 | fam_low << 8 | (model & 0xf) << 4 |
         (stepping & 0xf);
}

namespace {
const std::map<std::string, std::uint32_t>& vcpu_table() {
  static const std::map<std::string, std::uint32_t> t = [] {
    std::map<std::string, std::uint32_t> m;
    for (const char* n : {"EPYC", "EPYC-v1", "EPYC-v2", "EPYC-IBPB", "EPYC-v3", "EPYC-v4"}) {
      m[n] = snp_cpu_signature(23, 1, 2);
    }
    for (const char* n : {"EPYC-Rome", "EPYC-Rome-v1", "EPYC-Rome-v2", "EPYC-Rome-v3"}) {
      m[n] = snp_cpu_signature(23, 49, 0);
    }
    for (const char* n : {"EPYC-Milan", "EPYC-Milan-v1", "EPYC-Milan-v2"}) {
      m[n] = snp_cpu_signature(25, 1, 1);
    }
    for (const char* n : {"EPYC-Genoa", "EPYC-Genoa-v1"}) m[n] = snp_cpu_signature(25, 17, 0);
    m["EPYC-Turin"] = snp_cpu_signature(26, 0, 0);
    return m;
  }();
  return t;
}
}  // namespace

bool snp_vcpu_signature(const std::string& type, std::uint32_t* sig) {
  auto it = vcpu_table().find(type);
  if (it == vcpu_table().end()) return false;
  *sig = it->second;
  return true;
}

std::vector<std::string> snp_vcpu_types() {
  // sev-snp-measure's order, for help texts.
  return {"EPYC",          "EPYC-v1",      "EPYC-v2",       "EPYC-IBPB",
          "EPYC-v3",       "EPYC-v4",      "EPYC-Rome",     "EPYC-Rome-v1",
          "EPYC-Rome-v2",  "EPYC-Rome-v3", "EPYC-Milan",    "EPYC-Milan-v1",
          "EPYC-Milan-v2", "EPYC-Genoa",   "EPYC-Genoa-v1", "EPYC-Turin"};
}

SevHashes sev_hashes(std::span<const std::uint8_t> kernel, std::span<const std::uint8_t> initrd,
                     const std::string& cmdline) {
  SevHashes h;
  h.kernel_sha256 = digest(HashAlg::kSha256, kernel);
  h.initrd_sha256 = digest(HashAlg::kSha256, initrd);
  std::string with_nul = cmdline;
  with_nul.push_back('\0');
  h.cmdline_sha256 = digest(HashAlg::kSha256, with_nul);
  return h;
}

SevHashes sev_hashes_from(Bytes kernel_sha256, Bytes initrd_sha256, const std::string& cmdline) {
  SevHashes h = sev_hashes({}, {}, cmdline);
  h.kernel_sha256 = std::move(kernel_sha256);
  h.initrd_sha256 = std::move(initrd_sha256);
  return h;
}

Bytes sev_hashes_table(const SevHashes& h) {
  ByteWriter w;
  auto entry = [&](const char* guid, const Bytes& d) {
    w.append(Guid::parse(guid).bytes());
    w.le16(0x32);
    w.append(d);
  };
  w.append(Guid::parse("9438d606-4f22-4cc9-b479-a793d411fd21").bytes());
  w.le16(0xa8);
  entry("97d02dd8-bd20-4c94-aa78-e7714d36ab2a", h.cmdline_sha256);
  entry("44baf731-3a2f-4bd7-9af1-41e29169781d", h.initrd_sha256);
  entry("4de79437-abd2-427f-b835-d5b172d2045b", h.kernel_sha256);
  w.align(16);
  return w.take();
}

Bytes snp_vmsa(std::uint32_t eip, std::uint64_t sev_features, std::uint32_t vcpu_sig, VmmType vmm) {
  Bytes v(4096, 0);
  std::uint8_t* p = v.data();
  std::uint16_t cs = 0x9b, ss = 0x93, tr = 0x8b;
  std::uint64_t rdx = vcpu_sig, g_pat = 0x0007040600070406ull;
  std::uint32_t mxcsr = 0x1f80;
  std::uint16_t fcw = 0x37f;
  if (vmm == VmmType::kEc2) {
    cs = eip == kBspEip ? 0x9a : 0x9b;
    ss = 0x92;
    tr = 0x83;
    rdx = 0x600;
    mxcsr = 0;
    fcw = 0;
  } else if (vmm == VmmType::kGce) {
    g_pat = 0x00070106;
    rdx = 0x600;
    mxcsr = 0;
    fcw = 0;
  }
  put_seg(p + 0x00, 0, 0x93, 0xffff, 0);                     // es
  put_seg(p + 0x10, 0xf000, cs, 0xffff, eip & 0xffff0000u);  // cs
  put_seg(p + 0x20, 0, ss, 0xffff, 0);                       // ss
  put_seg(p + 0x30, 0, 0x93, 0xffff, 0);                     // ds
  put_seg(p + 0x40, 0, 0x93, 0xffff, 0);                     // fs
  put_seg(p + 0x50, 0, 0x93, 0xffff, 0);                     // gs
  put_seg(p + 0x60, 0, 0, 0xffff, 0);                        // gdtr
  put_seg(p + 0x70, 0, 0x82, 0xffff, 0);                     // ldtr
  put_seg(p + 0x80, 0, 0, 0xffff, 0);                        // idtr
  put_seg(p + 0x90, 0, tr, 0xffff, 0);                       // tr
  store_le64(p + 0xd0, 0x1000);                              // efer: SVME
  store_le64(p + 0x148, 0x40);                               // cr4: MCE
  store_le64(p + 0x158, 0x10);                               // cr0
  store_le64(p + 0x160, 0x400);                              // dr7
  store_le64(p + 0x168, 0xffff0ff0);                         // dr6
  store_le64(p + 0x170, 0x2);                                // rflags
  store_le64(p + 0x178, eip & 0xffff);                       // rip
  store_le64(p + 0x268, g_pat);
  store_le64(p + 0x310, rdx);
  store_le64(p + 0x3b0, sev_features);
  store_le64(p + 0x3e8, 0x1);  // xcr0
  store_le32(p + 0x408, mxcsr);
  store_le16(p + 0x410, fcw);
  return v;
}

Bytes snp_svsm_vmsa(std::uint32_t eip, std::uint32_t vcpu_sig) {
  Bytes v(4096, 0);
  std::uint8_t* p = v.data();
  put_seg(p + 0x00, 16, 0xc93, 0xffffffff, 0);  // es
  put_seg(p + 0x10, 8, 0xc9b, 0xffffffff, 0);   // cs
  put_seg(p + 0x20, 16, 0xc93, 0xffffffff, 0);  // ss
  put_seg(p + 0x30, 16, 0xc93, 0xffffffff, 0);  // ds
  put_seg(p + 0x40, 16, 0xc93, 0xffffffff, 0);  // fs
  put_seg(p + 0x50, 0, 0x93, 0xffff, 0);        // gs
  put_seg(p + 0x60, 0, 0, 0xffff, 0);
  put_seg(p + 0x70, 0, 0x82, 0xffff, 0);
  put_seg(p + 0x80, 0, 0, 0xffff, 0);
  put_seg(p + 0x90, 0, 0x8b, 0xffff, 0);
  store_le64(p + 0xd0, 0x1000);
  store_le64(p + 0x148, 0x40);
  store_le64(p + 0x158, 0x11);
  store_le64(p + 0x160, 0x400);
  store_le64(p + 0x168, 0xffff0ff0);
  store_le64(p + 0x170, 0x2);
  store_le64(p + 0x178, eip);
  store_le64(p + 0x268, 0x0007040600070406ull);
  store_le64(p + 0x310, vcpu_sig);
  store_le64(p + 0x3b0, 0x1);
  store_le64(p + 0x3e8, 0x1);
  store_le32(p + 0x408, 0x1f80);
  // The x87 control word as KVM sets it at reset (0x37f). sev-snp-measure
  // 0.0.13 leaves it 0 in this mode through a field-name slip; see docs/snp.md.
  store_le16(p + 0x410, 0x37f);
  return v;
}

Bytes snp_ovmf_hash(std::span<const std::uint8_t> ovmf) {
  Gctx g;
  g.normal_pages(kFourGiB - ovmf.size(), ovmf);
  return g.ld();
}

Bytes snp_launch_digest(std::span<const std::uint8_t> ovmf, const SevFirmware& fw,
                        const SnpInputs& in, const std::string& name,
                        std::span<const std::uint8_t> svsm, const SevFirmware* svsm_fw) {
  std::uint64_t ovmf_gpa = kFourGiB - ovmf.size();
  if (in.mode == SevMode::kSev || in.mode == SevMode::kSevEs) {
    Hasher h(HashAlg::kSha256);
    h.update(ovmf);
    if (in.hashes) {
      if (!fw.hash_table_gpa || *fw.hash_table_gpa == 0) {
        throw file_error(name,
                         "a kernel is given, but this OVMF does not support measured "
                         "direct boot (no SEV hashes table)");
      }
      h.update(sev_hashes_table(*in.hashes));
    }
    if (in.mode == SevMode::kSevEs) {
      if (!fw.reset_eip) throw file_error(name, "the OVMF table has no SEV-ES reset block");
      for (std::uint32_t i = 0; i < in.vcpus; ++i) {
        h.update(snp_vmsa(i == 0 ? kBspEip : *fw.reset_eip, 0, in.vcpu_sig, in.vmm));
      }
    }
    return h.finish();
  }
  if (in.mode == SevMode::kSnpSvsm) {
    if (!svsm_fw) throw InternalError("snp:svsm needs the SVSM binary");
    if (!svsm_fw->svsm_entry) throw file_error(name, "the SVSM binary has no SVSM info entry");
    std::uint64_t svsm_gpa = ovmf_gpa - in.vars_size - svsm.size();
    Gctx g;
    g.normal_pages(ovmf_gpa, ovmf);
    g.normal_pages(svsm_gpa, svsm);
    SnpInputs plain = in;
    plain.hashes.reset();
    plain.vmm = VmmType::kQemu;
    snp_sections(g, *svsm_fw, plain, name);
    Bytes vmsa =
        snp_svsm_vmsa(static_cast<std::uint32_t>(svsm_gpa + *svsm_fw->svsm_entry), in.vcpu_sig);
    for (std::uint32_t i = 0; i < in.vcpus; ++i) g.vmsa(vmsa);
    return g.ld();
  }
  if (!fw.has_metadata) {
    throw file_error(name,
                     "this firmware has no SEV metadata (no 'ASEV' table entry); QEMU "
                     "refuses to launch it as an SEV-SNP guest");
  }
  if (!fw.reset_eip) throw file_error(name, "the OVMF table has no SEV-ES reset block");
  Gctx g = in.ovmf_hash ? Gctx(*in.ovmf_hash) : Gctx();
  if (!in.ovmf_hash) g.normal_pages(ovmf_gpa, ovmf);
  snp_sections(g, fw, in, name);
  Bytes bsp = snp_vmsa(kBspEip, in.guest_features, in.vcpu_sig, in.vmm);
  Bytes ap = snp_vmsa(*fw.reset_eip, in.guest_features, in.vcpu_sig, in.vmm);
  for (std::uint32_t i = 0; i < in.vcpus; ++i) g.vmsa(i == 0 ? bsp : ap);
  return g.ld();
}

}  // namespace mkguest
