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

#include "builder/keys/keys.h"
#include "firmware/tpm_pcr.h"

namespace mkguest {

struct PcrSignRequest {
  std::vector<tpm::Section> sections;  // what the stub measures (.pcrpkey included)
  int stub_major = 257;
  std::vector<std::string> banks;   // "sha256"...; empty: all four
  std::vector<std::string> phases;  // phase paths; empty: systemd-measure's defaults
};

// JSON text: compact as systemd-measure prints it (`ukify_style` false), or
// with ", " and ": " separators as ukify's json.dumps embeds it.
std::string pcr_signature_json(const keys::Signer& key, const PcrSignRequest& r, bool ukify_style);

// Throws InputError unless `pub_pem` (a PEM public key or certificate) is
// the public half of `key`.
void check_pcr_public_key(const keys::Signer& key, std::span<const std::uint8_t> pub_pem,
                          const std::string& source);

}  // namespace mkguest
