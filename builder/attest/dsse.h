// DSSE (Dead Simple Signing Envelope, secure-systems-lab/dsse v1.0) signing
// and verification through OpenSSL:
//   envelope = {"payload": b64, "payloadType": T, "signatures": [{"keyid": K, "sig": b64}]}
//   signed bytes = PAE(T, payload) = "DSSEv1" SP len(T) SP T SP len(payload) SP payload
// (lengths in ASCII decimal). Keys: RSA (PKCS#1 v1.5, SHA-256), ECDSA P-256/
// P-384/P-521 (SHA-256/384/512, DER signature), Ed25519. keyid = hex SHA-256
// of the public key's DER SubjectPublicKeyInfo.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "builder/keys/keys.h"
#include "builder/manifest/json_util.h"

namespace mkguest::attest {

using keys::Signer;
using keys::Verifier;

Bytes dsse_pae(std::string_view payload_type, std::span<const std::uint8_t> payload);

json dsse_sign(const Signer& signer, std::string_view payload_type,
               std::span<const std::uint8_t> payload);

struct DsseResult {
  bool ok = false;
  std::string payload_type;
  Bytes payload;
  std::string keyid;    // of the signature that verified
  std::string problem;  // why it did not verify
};

// The most signatures an envelope may carry: each is tried with every key,
// so a hostile envelope would otherwise cost one public-key operation per
// signature and key (200,000 signatures took 53 s).
inline constexpr std::size_t kDsseMaxSignatures = 64;

// Checks the envelope's shape (InputError naming `source` when it is not a
// DSSE envelope, or one with more than kDsseMaxSignatures signatures) and whether any signature
// verifies with any of `keys`.
DsseResult dsse_verify(const json& envelope, const std::vector<Verifier>& keys,
                       const std::string& source);

}  // namespace mkguest::attest
