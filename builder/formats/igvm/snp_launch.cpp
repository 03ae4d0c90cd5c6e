// The IGVM mirror of QEMU's SEV-SNP launch of OVMF (see snp_launch.h), in
// the order firmware/snp_measure.cpp measures that launch.
#include "builder/formats/igvm/snp_launch.h"

#include "base/byte_writer.h"
#include "base/error.h"
#include "builder/formats/igvm/writer.h"

namespace mkguest::igvm {
namespace {

constexpr std::uint64_t kFourGiB = 0x100000000ull;
constexpr std::uint64_t kVmsaGpa = 0xFFFFFFFFF000ull;
constexpr std::uint32_t kBspEip = 0xfffffff0u;
constexpr std::uint32_t kMask = 1;

WriterHeader page(std::uint64_t gpa, std::uint16_t data_type, Bytes data) {
  WriterHeader h;
  h.type = kVhtPageData;
  h.body.assign(kSizePageData, 0);
  store_le64(h.body.data(), gpa);
  store_le32(h.body.data() + 8, kMask);
  store_le16(h.body.data() + 20, data_type);
  h.refs.emplace_back(12, std::move(data));
  return h;
}

}  // namespace

Bytes snp_launch_igvm(std::span<const std::uint8_t> ovmf, const SevFirmware& fw,
                      const SnpInputs& in, std::uint64_t guest_policy,
                      const std::string& firmware_name) {
  if (in.mode != SevMode::kSnp || in.vmm != VmmType::kQemu || in.ovmf_hash)
    throw ValueError("an IGVM launch is written for SEV-SNP under QEMU from the OVMF pages only");
  if (ovmf.size() % kPageSize != 0 || ovmf.size() > kFourGiB)
    throw file_error(firmware_name, "the firmware size is not a multiple of 4 KiB below 4 GiB");
  if (in.vcpus > 0xffff) throw ValueError("more vCPUs than an IGVM VP index holds");
  if (in.vcpus > 1 && !fw.reset_eip)
    throw file_error(firmware_name, "the OVMF table has no SEV-ES reset block");
  std::vector<WriterHeader> hs;
  WriterHeader platform;
  platform.type = kVhtSupportedPlatform;
  platform.body.assign(kSizeSupportedPlatform, 0);
  store_le32(platform.body.data(), kMask);
  platform.body[5] = kPlatformSevSnp;
  store_le16(platform.body.data() + 6, 1);
  hs.push_back(platform);
  WriterHeader policy;
  policy.type = kVhtGuestPolicy;
  policy.body.assign(kSizeGuestPolicy, 0);
  store_le64(policy.body.data(), guest_policy);
  store_le32(policy.body.data() + 8, kMask);
  hs.push_back(policy);

  const std::uint64_t base = kFourGiB - ovmf.size();
  for (std::size_t off = 0; off < ovmf.size(); off += kPageSize) {
    const auto p = ovmf.subspan(off, kPageSize);
    hs.push_back(page(base + off, kPageNormal, Bytes(p.begin(), p.end())));
  }
  auto empty = [&](std::uint64_t gpa, std::uint64_t size, std::uint16_t type) {
    for (std::uint64_t o = 0; o < size; o += kPageSize) hs.push_back(page(gpa + o, type, {}));
  };
  for (const auto& s : fw.sections) {
    switch (s.type) {
      case SevSectionType::kSnpSecMem:
      case SevSectionType::kSvsmCaa:
        empty(s.gpa, s.size, kPageNormal);
        break;
      case SevSectionType::kSnpSecrets:
        empty(s.gpa, kPageSize, kPageSecrets);
        break;
      case SevSectionType::kCpuid:
        empty(s.gpa, kPageSize, kPageCpuidData);
        break;
      case SevSectionType::kSnpKernelHashes:
        if (!in.hashes) {
          empty(s.gpa, s.size, kPageNormal);
          break;
        }
        if (s.size != kPageSize || !fw.hash_table_gpa)
          throw offset_error(firmware_name, s.offset,
                             "measured direct boot needs a one-page SNP_KERNEL_HASHES section "
                             "and an SEV hashes table entry");
        {
          Bytes p(kPageSize, 0);
          const Bytes table = sev_hashes_table(*in.hashes);
          const std::size_t at = *fw.hash_table_gpa & 0xfff;
          if (at + table.size() > p.size())
            throw file_error(firmware_name, "the SEV hashes table crosses a page end");
          std::copy(table.begin(), table.end(), p.begin() + static_cast<std::ptrdiff_t>(at));
          hs.push_back(page(s.gpa, kPageNormal, std::move(p)));
        }
        break;
    }
  }
  if (in.hashes && !fw.has_section(SevSectionType::kSnpKernelHashes))
    throw file_error(firmware_name,
                     "a kernel is given, but the OVMF metadata has no "
                     "SNP_KERNEL_HASHES section");
  for (std::uint32_t i = 0; i < in.vcpus; ++i) {
    WriterHeader vp;
    vp.type = kVhtVpContext;
    vp.body.assign(kSizeVpContext, 0);
    store_le64(vp.body.data(), kVmsaGpa);
    store_le32(vp.body.data() + 8, kMask);
    store_le16(vp.body.data() + 16, static_cast<std::uint16_t>(i));
    vp.refs.emplace_back(
        12, snp_vmsa(i == 0 ? kBspEip : *fw.reset_eip, in.guest_features, in.vcpu_sig, in.vmm));
    hs.push_back(std::move(vp));
  }
  return write_igvm(kVersion1, Architecture::kX64, hs);
}

}  // namespace mkguest::igvm
