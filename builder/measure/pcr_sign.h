// The signed PCR 11 policy of a UKI, as `systemd-measure sign` writes it and
// ukify embeds it (UAPI "Unified Kernel Image", systemd-measure(1)):
//   .pcrsig = {"<bank>": [{"pcrs": [11], "pkfp": hex, "pol": hex, "sig": base64}, ...]}
//   one entry per phase path; banks and phases sorted and deduplicated
//   pol  = the TPM2 PolicyPCR digest for PCR 11's expected value (tpm_pcr.h)
//   sig  = RSASSA-PKCS1-v1_5 over pol, hashed with the bank's algorithm
//   pkfp = SHA-256 of the public key as a PKCS#1 RSAPublicKey DER
// No TPM is needed: every value is computed in software.
#pragma once

#include <string>
#include <vector>

#include "builder/formats/uki/sections.h"
#include "builder/keys/keys.h"
#include "firmware/tpm_pcr.h"

namespace mkguest {

struct PcrSignRequest {
  std::vector<tpm::Section> sections;  // what the stub measures (.pcrpkey included)
  int stub_major = 257;
  std::vector<std::string> banks;   // "sha256"...; empty: all four
  std::vector<std::string> phases;  // phase paths; empty: systemd-measure's defaults
};

// How the JSON text is laid out: compact as `systemd-measure sign` prints it
// (--json=short), with ", " and ": " separators as ukify's json.dumps embeds
// it, or as systemd's --json=pretty (tab indents, " : "). No trailing newline.
enum class PcrJsonStyle { kShort, kUkify, kPretty };

std::string pcr_signature_json(const keys::Signer& key, const PcrSignRequest& r,
                               PcrJsonStyle style);
// Same, kUkify when `ukify_style`, else kShort.
std::string pcr_signature_json(const keys::Signer& key, const PcrSignRequest& r, bool ukify_style);

// Signs every profile of the UKI `c` describes on `stub` (ukify 257): sets
// c.pcrsig (the base, or profile 0) and each c.joined[i].pcrsig, each over the
// sections the stub measures for that profile (profile_view). `r` gives the
// banks, phases and stub rules; its sections are ignored.
void sign_uki_profiles(const keys::Signer& key, PcrSignRequest r,
                       std::span<const std::uint8_t> stub, UkiContents& c);

// Throws InputError unless `pub_pem` (a PEM public key or certificate) is
// the public half of `key`.
void check_pcr_public_key(const keys::Signer& key, std::span<const std::uint8_t> pub_pem,
                          const std::string& source);

}  // namespace mkguest
