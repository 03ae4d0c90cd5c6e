// Signed CoRIM: COSE_Sign1 (RFC 9052 §4.2) over an unsigned CoRIM, as
// draft-ietf-rats-corim-07 §4.2 lays it out:
//   signed-corim = #6.18([protected: bstr .cbor {1: alg, 3: "application/rim+cbor",
//                                               4: kid, 8: bstr .cbor corim-meta-map},
//                         unprotected: {}, payload: bstr (the #6.501 CoRIM), signature: bstr])
//   corim-meta-map = {0: {0: signer-name}, 1: {0: #6.1(not-before), 1: #6.1(not-after)}}
//   Sig_structure = ["Signature1", protected, h'', payload]
// alg: ES256 -7, ES384 -35, ES512 -36 (signature r || s, each the curve's
// size), EdDSA -8 (Ed25519), RS256 -257 (RFC 8812). kid = SHA-256 of the
// key's DER SubjectPublicKeyInfo (the DSSE keyid's bytes).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "builder/attest/corim.h"
#include "builder/keys/keys.h"

namespace mkguest::attest {

inline constexpr std::uint64_t kCborTagCoseSign1 = 18;
inline constexpr const char* kCorimContentType = "application/rim+cbor";

struct CorimSignOptions {
  std::string signer_name = "mkguest";
  CorimValidity validity;  // the signature's validity (corim-meta)
};

// The COSE algorithm id of a signer's key (ValueError for a key COSE has none for here).
std::int64_t cose_alg(const keys::Signer& signer);

Bytes corim_sign(std::span<const std::uint8_t> unsigned_corim, const keys::Signer& signer,
                 const CorimSignOptions& o);

struct CoseResult {
  bool ok = false;
  Bytes payload;        // the signed CoRIM (#6.501)
  std::string keyid;    // of the key that verified
  std::string problem;  // why it did not verify
};

// Whether `data` starts like a COSE_Sign1 (tag 18), as opposed to JSON.
bool looks_like_cose_sign1(std::span<const std::uint8_t> data);

// What a COSE_Sign1 signs (the Sig_structure of its protected header and
// payload) and with which alg, its shape checked as by corim_verify. Two
// ECDSA signatures by one key over one CoRIM differ (OpenSSL 3.0 draws the
// nonce at random) while this is equal: `verify --rebuild` compares it.
struct CoseSigned {
  std::int64_t alg = 0;
  Bytes to_be_signed;
};
CoseSigned cose_signed_content(std::span<const std::uint8_t> cose, const std::string& source);

// Whether signatures of a COSE alg differ from run to run here (ECDSA).
bool cose_alg_is_randomised(std::int64_t alg);

// Checks the envelope's shape strictly (InputError naming `source` at the
// offending byte offset when it is not a signed CoRIM) and whether its
// signature verifies with any of `keys`.
CoseResult corim_verify(std::span<const std::uint8_t> cose, const std::vector<keys::Verifier>& keys,
                        const std::string& source);

}  // namespace mkguest::attest
