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

// The UKI's parsed facts the predictions need.
struct UkiFacts {
  pe::PeImage p;
  std::string version;
  int major = 257;
  std::vector<UkiSectionInput> all;
  std::span<const std::uint8_t> linux_pe, initrd;
  std::string cmdline;
  bool has_pcrpkey = false;
};

UkiFacts uki_facts(std::span<const std::uint8_t> uki, const std::string& name) {
  UkiFacts f;
  f.p = pe::parse_pe_image(uki, name);
  f.version = stub_version(uki, name);
  f.major = f.version.empty() ? 257 : tpm::stub_major(f.version);
  for (const auto& s : f.p.sections) f.all.push_back({s.name, pe::section_data(uki, s)});
  auto section = [&](const char* n) -> std::span<const std::uint8_t> {
    const pe::SectionHeader* s = f.p.find(n);
    return s ? pe::section_data(uki, *s) : std::span<const std::uint8_t>();
  };
  f.linux_pe = section(".linux");
  f.initrd = section(".initrd");
  const auto cmdline_bytes = section(".cmdline");
  f.cmdline.assign(cmdline_bytes.begin(), cmdline_bytes.end());
  f.has_pcrpkey = f.p.find(".pcrpkey") != nullptr;
  return f;
}

std::vector<tpm::Section> measured_sections(const UkiFacts& f, std::size_t profile) {
  std::vector<tpm::Section> out;
  for (const auto& s : profile_view(f.all, profile)) out.push_back({s.name, s.data});
  return out;
}

// The events of both boot paths (the digests computed once).
struct BootEvents {
  std::vector<tpm::PcrEvent> qemu_kernel, disk;
};

BootEvents uki_events(std::span<const std::uint8_t> uki, const std::string& name, const UkiFacts& f,
                      HashAlg alg) {
  BootEvents both;
  std::vector<tpm::PcrEvent> ev;
  // PCR 4: the UKI's Authenticode digest, the boot-option action, the
  // separator, and the kernel the stub starts with LoadImage (stubs < 258).
  const tpm::PcrEvent a_uki{4, tpm::kEvEfiBootServicesApplication,
                            pe::authenticode_digest(uki, name, alg),
                            "Authenticode of the UKI; the booted UKI is not this build's"};
  const tpm::PcrEvent call{4, tpm::kEvEfiAction, digest(alg, tpm::calling_efi_application()),
                           "\"Calling EFI Application from Boot Option\" (OVMF)"};
  const tpm::PcrEvent sep{4, tpm::kEvSeparator, digest(alg, tpm::separator()),
                          "the separator (OVMF, at the first boot attempt)"};
  if (f.major < 258 && !f.linux_pe.empty()) {
    try {
      ev.push_back({4, tpm::kEvEfiBootServicesApplication,
                    pe::authenticode_digest(f.linux_pe, name + "(.linux)", alg),
                    "Authenticode of the UKI's .linux, which the stub starts with LoadImage; "
                    "the kernel is not this build's"});
    } catch (const InputError&) {
      // Not a PE: the stub cannot LoadImage it, so there is no event for it.
    }
  }
  // PCR 9: the kernel's EFI stub measures LoadOptions (the stub passes
  // .cmdline) and the initrd it is handed (.initrd; with .pcrpkey the stub
  // adds generated cpios, so there is no prediction then).
  if (!f.has_pcrpkey) {
    ev.push_back({9, tpm::kEvEventTag, digest(alg, tpm::utf16le_with_nul(f.cmdline)),
                  "the kernel's LoadOptions (.cmdline as UTF-16LE); the command line differs"});
    if (!f.initrd.empty())
      ev.push_back({9, tpm::kEvEventTag, digest(alg, f.initrd),
                    "the initrd the kernel loaded (.initrd); the initrd differs"});
  }
  const auto p11 = tpm::pcr11_events(alg, measured_sections(f, 0), f.major);
  ev.insert(ev.end(), p11.begin(), p11.end());
  both.qemu_kernel = {a_uki, call, sep};
  both.disk = {call, sep, a_uki};
  for (auto* path : {&both.qemu_kernel, &both.disk})
    path->insert(path->end(), ev.begin(), ev.end());
  return both;
}

}  // namespace

std::vector<tpm::PcrEvent> predict_uki_events(std::span<const std::uint8_t> uki,
                                              const std::string& name, HashAlg bank,
                                              const std::string& path) {
  if (path != "qemu-kernel" && path != "disk")
    throw ValueError("unknown UKI boot path \"" + path + "\" (qemu-kernel or disk)");
  BootEvents both = uki_events(uki, name, uki_facts(uki, name), bank);
  return path == "disk" ? std::move(both.disk) : std::move(both.qemu_kernel);
}

nlohmann::json predict_uki_pcrs(std::span<const std::uint8_t> uki, const std::string& name,
                                bool direct, const std::vector<std::uint64_t>& direct_ram_mib) {
  const UkiFacts f = uki_facts(uki, name);
  const std::string& version = f.version;
  const int major = f.major;
  const auto& all = f.all;
  const bool has_profiles = f.p.find(".profile") != nullptr;
  auto pcr11_of = [&](HashAlg alg, const std::vector<tpm::Section>& sections) {
    nlohmann::json phases = nlohmann::json::array();
    std::vector<std::string> paths{""};
    for (const auto& ph : tpm::default_phases()) paths.push_back(ph);
    for (const auto& phase : paths)
      phases.push_back(
          {{"phase", phase}, {"value", to_hex(tpm::pcr11(alg, sections, major, phase))}});
    return phases;
  };
  const auto linux_pe = f.linux_pe;
  const auto initrd = f.initrd;
  const std::string& cmdline = f.cmdline;
  nlohmann::json pcr4, pcr9, pcr11, pcr12;
  for (const HashAlg alg : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    const std::string bank(hash_name(alg));
    pcr11[bank] = pcr11_of(alg, measured_sections(f, 0));
    // PCR 4 and PCR 9: the events of each boot path, replayed.
    const BootEvents both = uki_events(uki, name, f, alg);
    const auto& qemu = both.qemu_kernel;
    const auto& disk = both.disk;
    pcr4[bank] = {{"qemu-kernel", to_hex(tpm::replay_events(alg, qemu, 4))},
                  {"disk", to_hex(tpm::replay_events(alg, disk, 4))}};
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
    if (!f.has_pcrpkey) pcr9[bank]["uki"] = to_hex(tpm::replay_events(alg, qemu, 9));
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
      const auto sections = measured_sections(f, i);
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
