// PCR predictions of a UKI (see uki_pcrs.h and firmware/tpm_pcr.h).
#include "builder/measure/uki_pcrs.h"

#include <optional>

#include "base/digest.h"
#include "base/error.h"
#include "builder/formats/pe/authenticode.h"
#include "builder/formats/pe/image.h"
#include "builder/formats/uki/sections.h"
#include "firmware/tdx_events.h"
#include "firmware/tpm_pcr.h"

namespace mkguest {

nlohmann::json predict_uki_pcrs(std::span<const std::uint8_t> uki, const std::string& name,
                                bool direct, const std::vector<std::uint64_t>& direct_ram_mib) {
  const pe::PeImage p = pe::parse_pe_image(uki, name);
  const std::string version = stub_version(uki, name);
  const int major = version.empty() ? 257 : tpm::stub_major(version);
  std::vector<tpm::Section> measured;
  for (const auto& s : p.sections) measured.push_back({s.name, pe::section_data(uki, s)});
  auto section = [&](const char* n) -> std::span<const std::uint8_t> {
    const pe::SectionHeader* s = p.find(n);
    return s ? pe::section_data(uki, *s) : std::span<const std::uint8_t>();
  };
  const auto linux_pe = section(".linux");
  const auto cmdline_bytes = section(".cmdline");
  const auto initrd = section(".initrd");
  const std::string cmdline(cmdline_bytes.begin(), cmdline_bytes.end());
  const bool has_pcrpkey = p.find(".pcrpkey") != nullptr;
  nlohmann::json pcr4, pcr9, pcr11, pcr12;
  for (const HashAlg alg : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    const std::string bank(hash_name(alg));
    nlohmann::json phases = nlohmann::json::array();
    std::vector<std::string> paths{""};
    for (const auto& ph : tpm::default_phases()) paths.push_back(ph);
    for (const auto& phase : paths)
      phases.push_back(
          {{"phase", phase}, {"value", to_hex(tpm::pcr11(alg, measured, major, phase))}});
    pcr11[bank] = phases;
    // PCR 4: the UKI's Authenticode digest, the boot-option action, the
    // separator, and the kernel the stub starts with LoadImage (stubs < 258).
    const Bytes a_uki = pe::authenticode_digest(uki, name, alg);
    std::optional<Bytes> a_linux;
    if (major < 258 && !linux_pe.empty()) {
      try {
        a_linux = pe::authenticode_digest(linux_pe, name + "(.linux)", alg);
      } catch (const InputError&) {
        // Not a PE: the stub cannot LoadImage it, so there is no event for it.
      }
    }
    Bytes qemu = tpm::zero_register(alg), disk = tpm::zero_register(alg);
    tpm::extend_digest(qemu, alg, a_uki);
    tpm::extend(qemu, alg, tpm::calling_efi_application());
    tpm::extend(qemu, alg, tpm::separator());
    tpm::extend(disk, alg, tpm::calling_efi_application());
    tpm::extend(disk, alg, tpm::separator());
    tpm::extend_digest(disk, alg, a_uki);
    if (a_linux) {
      tpm::extend_digest(qemu, alg, *a_linux);
      tpm::extend_digest(disk, alg, *a_linux);
    }
    pcr4[bank] = {{"qemu-kernel", to_hex(qemu)}, {"disk", to_hex(disk)}};
    // A direct boot: the kernel as QEMU hands it to OVMF (setup header
    // edited for the command line and the initrd), then the action and the
    // separator.
    if (direct && !linux_pe.empty()) {
      for (const std::uint64_t mib : direct_ram_mib) {
        const Bytes patched = tdx::qemu_patch_kernel(linux_pe, mib << 20, initrd.size(), name);
        Bytes r4 = tpm::zero_register(alg);
        tpm::extend_digest(r4, alg, pe::authenticode_digest(patched, name + "(.linux)", alg));
        tpm::extend(r4, alg, tpm::calling_efi_application());
        tpm::extend(r4, alg, tpm::separator());
        pcr4[bank]["direct-qemu-ovmf-" + std::to_string(mib) + "M"] = to_hex(r4);
      }
    }
    // PCR 9: the kernel's EFI stub measures LoadOptions (the stub passes
    // .cmdline) and the initrd it is handed (.initrd; with .pcrpkey the stub
    // adds generated cpios, so there is no prediction then).
    if (!has_pcrpkey) {
      Bytes r9 = tpm::zero_register(alg);
      tpm::extend(r9, alg, tpm::utf16le_with_nul(cmdline));
      if (!initrd.empty()) tpm::extend(r9, alg, initrd);
      pcr9[bank]["uki"] = to_hex(r9);
    }
    if (direct && !initrd.empty()) {
      // QEMU -kernel -initrd -append with OVMF: OVMF appends " initrd=initrd".
      Bytes r9 = tpm::zero_register(alg);
      tpm::extend(r9, alg, tpm::utf16le_with_nul(cmdline + " initrd=initrd"));
      tpm::extend(r9, alg, initrd);
      pcr9[bank]["direct-qemu-ovmf"] = to_hex(r9);
    }
    // PCR 12: nothing is passed at boot (the UKI carries its cmdline).
    pcr12[bank] = to_hex(tpm::zero_register(alg));
  }
  return {{"stub", {{"version", version}, {"rules", major}}},
          {"pcr4", pcr4},
          {"pcr9", pcr9},
          {"pcr11", pcr11},
          {"pcr12", pcr12},
          {"assumptions",
           "OVMF with Secure Boot off, no shim or boot loader before the UKI; qemu-kernel: the "
           "UKI passed with QEMU -kernel; disk: the UKI started from a boot entry; PCR 9 needs "
           "Linux 6.1 or later (LoadOptions); PCR 12: no command line passed at boot"}};
}

}  // namespace mkguest
