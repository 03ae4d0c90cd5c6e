// vTPM PCR predictions for a UKI (see tpm_pcr.h).
#include "firmware/tpm_pcr.h"

#include <algorithm>
#include <cstdlib>

namespace mkguest::tpm {

int stub_major(const std::string& version) {
  std::size_t i = 0;
  while (i < version.size() && version[i] >= '0' && version[i] <= '9') ++i;
  return i == 0 || i > 6 ? 0 : std::atoi(version.substr(0, i).c_str());
}

std::vector<std::string> pcr11_sections(int major) {
  // systemd's UnifiedSection enum order; .pcrsig is never measured.
  std::vector<std::string> s{".linux", ".osrel", ".cmdline", ".initrd"};
  if (major >= 256) s.push_back(".ucode");
  s.insert(s.end(), {".splash", ".dtb"});
  if (major >= 254) s.insert(s.end(), {".uname", ".sbat"});
  s.push_back(".pcrpkey");
  if (major >= 257) s.insert(s.end(), {".profile", ".dtbauto", ".hwids"});
  return s;
}

std::vector<std::string> default_phases() {
  return {"enter-initrd", "enter-initrd:leave-initrd", "enter-initrd:leave-initrd:sysinit",
          "enter-initrd:leave-initrd:sysinit:ready"};
}

Bytes zero_register(HashAlg alg) { return Bytes(hash_size(alg), 0); }

void extend_digest(Bytes& reg, HashAlg alg, std::span<const std::uint8_t> d) {
  Hasher h(alg);
  h.update(reg);
  h.update(d);
  reg = h.finish();
}

void extend(Bytes& reg, HashAlg alg, std::span<const std::uint8_t> data) {
  const Bytes d = digest(alg, data);
  extend_digest(reg, alg, d);
}

std::vector<PcrEvent> pcr11_events(HashAlg alg, const std::vector<Section>& sections, int major) {
  std::vector<PcrEvent> out;
  for (const auto& name : pcr11_sections(major)) {
    const auto it = std::find_if(sections.begin(), sections.end(),
                                 [&](const Section& s) { return s.name == name; });
    if (it == sections.end() || it->data.empty()) continue;
    const std::string with_nul(name.c_str(), name.size() + 1);
    out.push_back({11, kEvIpl, digest(alg, as_bytes(with_nul)), "the UKI's section name " + name});
    out.push_back({11, kEvIpl, digest(alg, it->data), "the UKI's " + name + " section"});
  }
  return out;
}

Bytes replay_events(HashAlg alg, const std::vector<PcrEvent>& events, unsigned pcr) {
  Bytes reg = zero_register(alg);
  for (const auto& e : events)
    if (e.pcr == pcr) extend_digest(reg, alg, e.digest);
  return reg;
}

Bytes pcr11(HashAlg alg, const std::vector<Section>& sections, int major,
            const std::string& phase_path) {
  Bytes reg = replay_events(alg, pcr11_events(alg, sections, major), 11);
  std::size_t start = 0;
  while (start <= phase_path.size()) {
    std::size_t colon = phase_path.find(':', start);
    if (colon == std::string::npos) colon = phase_path.size();
    if (colon > start) {
      extend(reg, alg, as_bytes(std::string_view(phase_path).substr(start, colon - start)));
    }
    start = colon + 1;
  }
  return reg;
}

Bytes utf16le_with_nul(const std::string& text) {
  Bytes out;
  // Decode UTF-8 to code points, then encode UTF-16LE (surrogate pairs above U+FFFF).
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t cp = static_cast<unsigned char>(text[i]);
    std::size_t n = 1;
    if (cp >= 0xf0 && i + 3 < text.size()) {
      cp = ((cp & 0x07) << 18) | ((text[i + 1] & 0x3f) << 12) | ((text[i + 2] & 0x3f) << 6) |
           (text[i + 3] & 0x3f);
      n = 4;
    } else if (cp >= 0xe0 && i + 2 < text.size()) {
      cp = ((cp & 0x0f) << 12) | ((text[i + 1] & 0x3f) << 6) | (text[i + 2] & 0x3f);
      n = 3;
    } else if (cp >= 0xc0 && i + 1 < text.size()) {
      cp = ((cp & 0x1f) << 6) | (text[i + 1] & 0x3f);
      n = 2;
    }
    i += n;
    if (cp >= 0x10000) {
      const std::uint32_t v = cp - 0x10000;
      const std::uint16_t hi = 0xd800 | (v >> 10), lo = 0xdc00 | (v & 0x3ff);
      out.insert(out.end(),
                 {static_cast<std::uint8_t>(hi & 0xff), static_cast<std::uint8_t>(hi >> 8),
                  static_cast<std::uint8_t>(lo & 0xff), static_cast<std::uint8_t>(lo >> 8)});
    } else {
      out.push_back(cp & 0xff);
      out.push_back((cp >> 8) & 0xff);
    }
  }
  out.push_back(0);
  out.push_back(0);
  return out;
}

std::span<const std::uint8_t> calling_efi_application() {
  static const char kText[] = "Calling EFI Application from Boot Option";
  return {reinterpret_cast<const std::uint8_t*>(kText), sizeof kText - 1};
}

std::span<const std::uint8_t> separator() {
  static const std::uint8_t kZero[4] = {0, 0, 0, 0};
  return {kZero, 4};
}

Bytes policy_pcr11(HashAlg bank, std::span<const std::uint8_t> pcr11_value) {
  const std::uint16_t alg = hash_info(bank).tpm_id;
  Bytes m(32, 0);
  m.insert(m.end(), {0x00, 0x00, 0x01, 0x7f});  // TPM_CC_PolicyPCR
  m.insert(m.end(), {0x00, 0x00, 0x00, 0x01});  // one selection
  m.insert(m.end(), {static_cast<std::uint8_t>(alg >> 8), static_cast<std::uint8_t>(alg & 0xff)});
  m.insert(m.end(), {0x03, 0x00, 0x08, 0x00});  // PCR 11
  const Bytes pcr_digest = digest(HashAlg::kSha256, pcr11_value);
  m.insert(m.end(), pcr_digest.begin(), pcr_digest.end());
  return digest(HashAlg::kSha256, m);
}

}  // namespace mkguest::tpm
