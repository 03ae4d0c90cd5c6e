// vTPM PCR predictions for a UKI (spec: systemd-stub and systemd-pcrphase,
// the UAPI "Unified Kernel Image" specification, TCG PC Client PFP; see
// docs/pcr.md):
//   PCR 11: for each section the stub knows, in its canonical order, when
//     present and non-empty: extend H(name + NUL), then H(content[0:VirtualSize]);
//     then one extend of H(word) (no NUL) per systemd-pcrphase word
//   PCR 4:  the firmware's EV_EFI_BOOT_SERVICES_APPLICATION events (the
//     Authenticode digest of each image) around "Calling EFI Application
//     from Boot Option" and the separator, in the order of the boot path
//   PCR 9:  the kernel EFI stub's LoadOptions (UTF-16LE + NUL) and initrd events
//   PCR 12: a command line passed at boot (UTF-16LE + NUL), when the stub uses it
// Every register starts at zero; extend(r, d) = H(r || d).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "base/digest.h"

namespace mkguest::tpm {

struct Section {
  std::string name;
  std::span<const std::uint8_t> data;  // the bytes the stub measures
};

// The major version of a stub version string ("252.39-1~deb12u2" -> 252);
// 0 when it has none.
int stub_major(const std::string& version);

// The sections a stub of this major version measures into PCR 11, in its
// canonical order (252: .linux .osrel .cmdline .initrd .splash .dtb .pcrpkey;
// 254 adds .uname .sbat; 256 .ucode; 257 .profile .dtbauto .hwids).
std::vector<std::string> pcr11_sections(int stub_major);

// The systemd-measure default phase paths.
std::vector<std::string> default_phases();

// Extends `reg` by `data`'s digest: reg = H(reg || H(data)).
void extend(Bytes& reg, HashAlg alg, std::span<const std::uint8_t> data);
// Extends `reg` by a ready digest: reg = H(reg || digest).
void extend_digest(Bytes& reg, HashAlg alg, std::span<const std::uint8_t> digest);
Bytes zero_register(HashAlg alg);

// One event a boot logs (TCG_PCR_EVENT2): the register, the event type, the
// digest extended, and what it is, in terms of the build's inputs.
struct PcrEvent {
  unsigned pcr = 0;
  std::uint32_t type = 0;
  Bytes digest;
  std::string what;
};
// TCG event types of the predicted events.
constexpr std::uint32_t kEvSeparator = 0x4, kEvEventTag = 0x6, kEvIpl = 0xD,
                        kEvEfiBootServicesApplication = 0x80000003, kEvEfiAction = 0x80000007;

// The stub's PCR 11 events (EV_IPL): for each section of the canonical order
// present and non-empty, H(name + NUL) then H(content).
std::vector<PcrEvent> pcr11_events(HashAlg alg, const std::vector<Section>& sections,
                                   int stub_major);

// Register `pcr` after `events` (the others skipped), from zero.
Bytes replay_events(HashAlg alg, const std::vector<PcrEvent>& events, unsigned pcr);

// PCR 11 after the stub measured `sections` (any order; duplicates: the
// first) and systemd-pcrphase extended the words of `phase_path` (split at
// ':', empty words skipped; "" or ":" = none).
Bytes pcr11(HashAlg alg, const std::vector<Section>& sections, int stub_major,
            const std::string& phase_path);

// UTF-16LE of an ASCII/UTF-8 command line plus the 2-byte NUL, as the EFI
// stub and systemd-stub measure LoadOptions.
Bytes utf16le_with_nul(const std::string& text);

// The constant PCR 4 event data: "Calling EFI Application from Boot Option"
// (EV_EFI_ACTION, no NUL) and the separator (EV_SEPARATOR, 4 zero bytes).
std::span<const std::uint8_t> calling_efi_application();
std::span<const std::uint8_t> separator();

// The TPM2 PolicyPCR digest (always SHA-256) that binds PCR 11 of `bank` to
// `pcr11_value`: SHA256(0^32 || u32be TPM_CC_PolicyPCR (0x17f) ||
// TPML_PCR_SELECTION {1, {alg, 3, 00 08 00}} || SHA256(pcr11_value)).
Bytes policy_pcr11(HashAlg bank, std::span<const std::uint8_t> pcr11_value);

}  // namespace mkguest::tpm
