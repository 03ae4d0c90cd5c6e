// Signing and verifying keys, shared by Authenticode (PE), the signed PCR
// policy, DSSE envelopes and IBM SE: PEM private keys (PKCS#8, traditional
// RSA/EC, encrypted), PKCS#11 tokens, PEM public keys and X.509 certificates,
// certificate chains. Keys: RSA (PKCS#1 v1.5, SHA-256), ECDSA P-256/P-384/
// P-521 (SHA-256/384/512, DER signature), Ed25519. keyid = hex SHA-256 of the
// public key's DER SubjectPublicKeyInfo.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"

struct evp_pkey_st;

namespace mkguest::keys {

// A private key. The PEM text given to from_pem is not kept; the caller wipes it.
class Signer {
 public:
  // `pem`: a PEM private key (PKCS#8, traditional RSA/EC, encrypted with `passphrase`).
  static Signer from_pem(std::span<const std::uint8_t> pem, const std::string& source,
                         const std::string& passphrase = {});
  // A key on a PKCS#11 token (RFC 7512 URI "pkcs11:token=...;object=..."),
  // through OpenSSL's pkcs11 engine (Debian: libengine-pkcs11-openssl).
  // `module`: the token's PKCS#11 library (empty: the engine's default, p11-kit).
  static Signer from_pkcs11(const std::string& uri, const std::string& module,
                            const std::string& pin);
  ~Signer();
  Signer(Signer&&) noexcept;
  Signer& operator=(Signer&&) noexcept;

  const std::string& keyid() const { return keyid_; }
  Bytes sign(std::span<const std::uint8_t> message) const;
  // Throws InputError when the certificate (PEM) does not hold this key's public half.
  void check_certificate(std::span<const std::uint8_t> cert_pem, const std::string& source) const;
  // The OpenSSL key, for signers that need it (PKCS#7); owned by this Signer.
  evp_pkey_st* evp_key() const;

 private:
  struct Key;
  explicit Signer(std::unique_ptr<Key> k);
  std::unique_ptr<Key> key_;
  std::string keyid_;
};

// A public key, from a PEM public key, X.509 certificate or private key.
class Verifier {
 public:
  static Verifier from_pem(std::span<const std::uint8_t> pem, const std::string& source);
  ~Verifier();
  Verifier(Verifier&&) noexcept;
  Verifier& operator=(Verifier&&) noexcept;

  const std::string& keyid() const { return keyid_; }
  bool verify(std::span<const std::uint8_t> message, std::span<const std::uint8_t> sig) const;

 private:
  struct Key;
  explicit Verifier(std::unique_ptr<Key> k);
  std::unique_ptr<Key> key_;
  std::string keyid_;
};

// Verifies a certificate chain: `cert_pem` against the trust anchors in
// `ca_pem` (PEM certificates). Returns an empty string or the reason of failure.
std::string verify_certificate_chain(std::span<const std::uint8_t> cert_pem,
                                     std::span<const std::uint8_t> ca_pem);

}  // namespace mkguest::keys
