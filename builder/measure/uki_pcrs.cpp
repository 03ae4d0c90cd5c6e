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
namespace {

// The ID= value of a profile's .profile text (os-release syntax), or "".
std::string profile_id(const std::vector<UkiSectionInput>& sections) {
  for (const auto& s : sections) {
    if (s.name != ".profile") continue;
    std::string line;
    for (std::size_t i = 0; i <= s.data.size(); ++i) {
      const char c = i < s.data.size() ? static_cast<char>(s.data[i]) : '\n';
      if (c != '\n') {
        line.push_back(c);
        continue;
      }
      if (line.rfind("ID=", 0) == 0) {
        std::string v = line.substr(3);
        if (v.size() >= 2 && (v[0] == '"' || v[0] == '\'') && v.back() == v[0])
          v = v.substr(1, v.size() - 2);
        for (char& ch : v)
          if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e)
            ch = '?';  // the manifest carries printable ASCII only
        return v;
      }
      line.clear();
    }
  }
  return "";
}

}  // namespace

nlohmann::json predict_uki_pcrs(std::span<const std::uint8_t> uki, const std::string& name,
                                bool direct, const std::vector<std::uint64_t>& direct_ram_mib) {
  const pe::PeImage p = pe::parse_pe_image(uki, name);
  const std::string version = stub_version(uki, name);
  const int major = version.empty() ? 257 : tpm::stub_major(version);
  // A multi-profile UKI: the stub measures profile 0 unless told otherwise.
  std::vector<UkiSectionInput> all;
  for (const auto& s : p.sections) all.push_back({s.name, pe::section_data(uki, s)});
  auto measured_of = [&](std::size_t profile) {
    std::vector<tpm::Section> out;
    for (const auto& s : profile_view(all, profile)) out.push_back({s.name, s.data});
    return out;
  };
  const std::vector<tpm::Section> measured = measured_of(0);
  const bool has_profiles = p.find(".profile") != nullptr;
  auto pcr11_of = [&](HashAlg alg, const std::vector<tpm::Section>& sections) {
    nlohmann::json phases = nlohmann::json::array();
    std::vector<std::string> paths{""};
    for (const auto& ph : tpm::default_phases()) paths.push_back(ph);
    for (const auto& phase : paths)
      phases.push_back(
          {{"phase", phase}, {"value", to_hex(tpm::pcr11(alg, sections, major, phase))}});
    return phases;
  };
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
    pcr11[bank] = pcr11_of(alg, measured);
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
  nlohmann::json out = {{"stub", {{"version", version}, {"rules", major}}},
                        {"pcr4", pcr4},
                        {"pcr9", pcr9},
                        {"pcr11", pcr11},
                        {"pcr12", pcr12}};
  if (has_profiles) {
    // PCR 11 of each profile (the stub picks one from an "@N " prefix of its
    // command line; profile 0 is the one above). Only with .profile sections,
    // so no other manifest changes.
    nlohmann::json profiles = nlohmann::json::array();
    for (std::size_t i = 0; i < profile_count(all); ++i) {
      const auto sections = measured_of(i);
      nlohmann::json values;
      for (const HashAlg alg :
           {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512})
        values[std::string(hash_name(alg))] = pcr11_of(alg, sections);
      profiles.push_back(
          {{"profile", i}, {"id", profile_id(profile_view(all, i))}, {"pcr11", values}});
    }
    out["pcr11-profiles"] = profiles;
  }
  out["assumptions"] =
      "OVMF with Secure Boot off, no shim or boot loader before the UKI; qemu-kernel: the "
      "UKI passed with QEMU -kernel; disk: the UKI started from a boot entry; PCR 9 needs "
      "Linux 6.1 or later (LoadOptions); PCR 12: no command line passed at boot";
  return out;
}

}  // namespace mkguest
