// Signing and verifying keys, shared by Authenticode (PE), the signed PCR
// policy, DSSE envelopes and IBM SE: PEM private keys (PKCS#8, traditional
// RSA/EC, encrypted), PKCS#11 tokens, PEM public keys and X.509 certificates,
// certificate chains. Keys: RSA (PKCS#1 v1.5, SHA-256), ECDSA P-256/P-384/
// P-521 (SHA-256/384/512, DER signature), Ed25519. keyid = hex SHA-256 of the
// public key's DER SubjectPublicKeyInfo.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/secret.h"

struct evp_pkey_st;

namespace mkguest::keys {

// A private key. The PEM text given to from_pem is not kept.
class Signer {
 public:
  // `pem`: a PEM private key (PKCS#8, traditional RSA/EC, encrypted with `passphrase`).
  static Signer from_pem(std::span<const std::uint8_t> pem, const std::string& source,
                         const SecretBytes& passphrase = {});
  // A key on a PKCS#11 token (RFC 7512 URI "pkcs11:token=...;object=..."),
  // through OpenSSL's pkcs11 engine (Debian: libengine-pkcs11-openssl).
  // `module`: the token's PKCS#11 library (empty: the engine's default, p11-kit).
  static Signer from_pkcs11(const std::string& uri, const std::string& module,
                            const SecretBytes& pin);
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

// Whether a signing key names a PKCS#11 token object ("pkcs11:...") rather than a file.
bool is_pkcs11_uri(std::string_view key);

// What a command or a recipe names as its signing key. The secret (passphrase
// or PIN) is already resolved by the caller (only the CLI reads the environment).
struct SignerRequest {
  std::string key;            // a PEM private key file, or a pkcs11: URI
  std::string key_display;    // how errors and warnings name the PEM file (empty: key)
  std::string pkcs11_module;  // for a pkcs11: key (empty: the engine's default)
  SecretBytes secret;         // the PEM passphrase or the token PIN (empty: none)
};

// The one signer loader: a pkcs11: URI through the engine, else the PEM file,
// read as a secret (`warn` hears when group or others may access it).
Signer load_signer(const SignerRequest& r, const std::function<void(const std::string&)>& warn);

// Throws an InputError naming `source` when the file holds a PEM private key
// block of any kind: wherever a public key is expected (a UKI's .pcrpkey, a
// recipe's public_key, verify-signature --key), a private key is refused, so
// that it is never embedded in an image or published by mistake.
void refuse_private_pem(std::span<const std::uint8_t> pem, const std::string& source);

// A public key, from a PEM public key or X.509 certificate (never a private key).
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
