#include "firmware/sev_metadata.h"

namespace mkguest {

const char* sev_section_name(SevSectionType t) {
  switch (t) {
    case SevSectionType::kSnpSecMem:
      return "SNP_SEC_MEM";
    case SevSectionType::kSnpSecrets:
      return "SNP_SECRETS";
    case SevSectionType::kCpuid:
      return "CPUID";
    case SevSectionType::kSvsmCaa:
      return "SVSM_CAA";
    case SevSectionType::kSnpKernelHashes:
      return "SNP_KERNEL_HASHES";
  }
  return "?";
}

bool SevFirmware::has_section(SevSectionType t) const {
  for (const auto& s : sections) {
    if (s.type == t) return true;
  }
  return false;
}

SevFirmware parse_sev_firmware(const ByteReader& image) {
  SevFirmware fw;
  fw.size = image.size();
  if (image.size() == 0 || image.size() % 4096 != 0) {
    image.fail(0, "firmware size " + std::to_string(image.size()) +
                      " is not a non-zero multiple of 4096 bytes");
  }
  fw.table = OvmfTable::parse(image);
  const OvmfTable& t = fw.table;
  if (const auto* e = t.find(Guid::parse(ovmf_guid::kSevEsResetBlock))) {
    fw.reset_eip = t.u32(*e, 0, "SEV-ES reset block");
  }
  if (const auto* e = t.find(Guid::parse(ovmf_guid::kSevHashTable))) {
    fw.hash_table_gpa = t.u32(*e, 0, "SEV hashes table");
    fw.hash_table_size = t.u32(*e, 4, "SEV hashes table");
  }
  if (const auto* e = t.find(Guid::parse(ovmf_guid::kSvsmInfo))) {
    fw.svsm_entry = t.u32(*e, 0, "SVSM info");
  }
  const auto* meta = t.find(Guid::parse(ovmf_guid::kSevMetadata));
  if (!meta) return fw;
  std::uint32_t back = t.u32(*meta, 0, "SEV metadata offset");
  if (back > image.size()) {
    image.fail(meta->offset - image.base(),
               "SEV metadata offset " + hex_offset(back) + " points before the start of the file");
  }
  std::size_t at = image.size() - back;
  if (image.cstring(at, 4) != "ASEV") image.fail(at, "SEV metadata has no 'ASEV' signature");
  std::uint32_t total = image.le32(at + 4);
  std::uint32_t version = image.le32(at + 8);
  std::uint32_t count = image.le32(at + 12);
  if (version != 1) {
    image.fail(at + 8, "SEV metadata version " + std::to_string(version) + " is not 1");
  }
  if (total < 16 || !image.has(at, total)) {
    image.fail(at + 4, "SEV metadata length " + std::to_string(total) + " runs past the file");
  }
  if (count > (total - 16) / 12) {
    image.fail(at + 12, "SEV metadata declares " + std::to_string(count) +
                            " sections, more than its length " + std::to_string(total) + " holds");
  }
  fw.has_metadata = true;
  std::uint64_t declared = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::size_t d = at + 16 + static_cast<std::size_t>(i) * 12;
    SevSection s;
    s.gpa = image.le32(d);
    s.size = image.le32(d + 4);
    std::uint32_t type = image.le32(d + 8);
    s.offset = image.absolute(d);
    switch (type) {
      case 1:
      case 2:
      case 3:
      case 4:
      case 0x10:
        s.type = static_cast<SevSectionType>(type);
        break;
      default:
        image.fail(d + 8, "unknown SEV metadata section type " + hex_offset(type));
    }
    if (s.gpa % 4096 != 0 || s.size % 4096 != 0) {
      image.fail(d, std::string(sev_section_name(s.type)) + " section at GPA " + hex_offset(s.gpa) +
                        " size " + hex_offset(s.size) + " is not page-aligned");
    }
    if (static_cast<std::uint64_t>(s.gpa) + s.size > 0x100000000ull) {
      image.fail(d, std::string(sev_section_name(s.type)) + " section overflows 4 GiB");
    }
    // A resource limit: the launch digest hashes every page of every section,
    // and the sections of a real firmware are disjoint ranges below 4 GiB.
    declared += s.size;
    if (declared > 0x100000000ull) {
      image.fail(d, "SEV metadata sections declare more than 4 GiB in all; no firmware does");
    }
    fw.sections.push_back(s);
  }
  return fw;
}

}  // namespace mkguest
