// Signing and verifying keys through OpenSSL EVP: PEM private and public
// keys, X.509 certificates, PKCS#11 tokens and certificate chains; see keys.h.
// PKCS#11 keys come through the ENGINE API, deprecated in OpenSSL 3 but the
// only PKCS#11 route Debian 12 packages (no pkcs11-provider).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "builder/keys/keys.h"

#include <openssl/engine.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cstring>

#include "base/error.h"
#include "base/ossl.h"
#include "base/rfc6979.h"

namespace mkguest::keys {

namespace {

using ossl::Bio;
using ossl::Cert;
using ossl::Pkey;

std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

Bio mem_bio(std::span<const std::uint8_t> data) {
  Bio b(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!b) throw InternalError("BIO_new_mem_buf failed");
  return b;
}

int passphrase_cb(char* buf, int size, int, void* u) {
  const auto* pass = static_cast<const SecretBytes*>(u);
  if (!pass || pass->empty() || static_cast<int>(pass->size()) > size) return -1;
  std::memcpy(buf, pass->data(), pass->size());
  return static_cast<int>(pass->size());
}

std::string keyid_of(EVP_PKEY* k) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(k, &der);
  if (len <= 0) throw InternalError("i2d_PUBKEY failed: " + openssl_reason());
  std::string id = to_hex(digest(HashAlg::kSha256, std::span<const std::uint8_t>(der, len)));
  OPENSSL_free(der);
  return id;
}

// The digest a key type signs with (nullptr: the algorithm hashes itself).
const EVP_MD* md_for(EVP_PKEY* k) {
  switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
      return nullptr;
    case EVP_PKEY_EC: {
      int bits = EVP_PKEY_get_bits(k);
      return bits > 384 ? EVP_sha512() : bits > 256 ? EVP_sha384() : EVP_sha256();
    }
    default:
      return EVP_sha256();
  }
}

void check_supported(EVP_PKEY* k, const std::string& source) {
  int id = EVP_PKEY_get_base_id(k);
  if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC && id != EVP_PKEY_ED25519 && id != EVP_PKEY_ED448)
    throw file_error(source, "unsupported key type (use RSA, ECDSA or Ed25519)");
  if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(k) < 2048)
    throw file_error(source, "RSA keys shorter than 2048 bits are refused");
}

// Any PEM private key block: PKCS#8 ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
// and the traditional "RSA/EC/DSA/OPENSSH PRIVATE KEY".
bool holds_private_pem(std::span<const std::uint8_t> pem) {
  const std::string_view text(reinterpret_cast<const char*>(pem.data()), pem.size());
  for (std::size_t at = text.find("-----BEGIN "); at != std::string_view::npos;
       at = text.find("-----BEGIN ", at + 1)) {
    const std::size_t end = text.find("-----", at + 11);
    if (end == std::string_view::npos) break;
    const std::string_view label = text.substr(at + 11, end - at - 11);
    if (label.size() >= 11 && label.substr(label.size() - 11) == "PRIVATE KEY") return true;
  }
  return false;
}

Pkey read_public(std::span<const std::uint8_t> pem, const std::string& source) {
  refuse_private_pem(pem, source);
  {
    Bio b = mem_bio(pem);
    if (Cert c{PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)}) {
      Pkey k(X509_get_pubkey(c.get()));
      if (k) return k;
    }
  }
  ERR_clear_error();
  {
    Bio b = mem_bio(pem);
    if (Pkey k{PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr)}) return k;
  }
  ERR_clear_error();
  throw file_error(source, "not a PEM public key or certificate");
}

}  // namespace

void refuse_private_pem(std::span<const std::uint8_t> pem, const std::string& source) {
  if (holds_private_pem(pem))
    throw file_error(source,
                     "holds a PEM private key where a public key is expected: give the public key "
                     "(openssl pkey -in KEY -pubout) or a certificate; a private key is never "
                     "embedded or published");
}

struct Signer::Key {
  Pkey pkey;
  ENGINE* engine = nullptr;  // a functional reference, for PKCS#11 keys
  ~Key() {
    pkey.reset();
    if (engine) {
      ENGINE_finish(engine);
      ENGINE_free(engine);
    }
  }
};
Signer::Signer(std::unique_ptr<Key> k) : key_(std::move(k)), keyid_(keyid_of(key_->pkey.get())) {}
Signer::~Signer() = default;
Signer::Signer(Signer&&) noexcept = default;
Signer& Signer::operator=(Signer&&) noexcept = default;

Signer Signer::from_pem(std::span<const std::uint8_t> pem, const std::string& source,
                        const SecretBytes& passphrase) {
  Bio b = mem_bio(pem);
  Pkey k(PEM_read_bio_PrivateKey(b.get(), nullptr, passphrase_cb,
                                 const_cast<SecretBytes*>(&passphrase)));
  if (!k) {
    ERR_clear_error();  // the reason may quote nothing secret, but say only what failed
    throw file_error(source, passphrase.empty()
                                 ? "not a PEM private key (or encrypted: give a passphrase)"
                                 : "not a PEM private key, or a wrong passphrase");
  }
  check_supported(k.get(), source);
  auto key = std::make_unique<Key>();
  key->pkey = std::move(k);
  return Signer(std::move(key));
}

Signer Signer::from_pkcs11(const std::string& uri, const std::string& module,
                           const SecretBytes& pin) {
  const std::string source = "PKCS#11 key";
  if (!is_pkcs11_uri(uri)) throw InputError(source, "", "a PKCS#11 key is a pkcs11: URI");
  ENGINE_load_builtin_engines();
  ENGINE* e = ENGINE_by_id("pkcs11");
  if (!e) {
    ERR_clear_error();
    throw InputError(source, "", "OpenSSL has no pkcs11 engine (install libengine-pkcs11-openssl)");
  }
  auto key = std::make_unique<Key>();
  bool ok = (module.empty() || ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module.c_str(), 0) == 1) &&
            ENGINE_init(e) == 1;
  if (!ok) {
    ENGINE_free(e);
    ERR_clear_error();
    throw InputError(source, "",
                     "cannot load the PKCS#11 module" + (module.empty() ? "" : " " + module));
  }
  key->engine = e;
  if (!pin.empty() && ENGINE_ctrl_cmd_string(e, "PIN", pin.c_str(), 0) != 1) {
    ERR_clear_error();
    throw InputError(source, "", "the pkcs11 engine refused the PIN");
  }
  key->pkey.reset(ENGINE_load_private_key(e, uri.c_str(), nullptr, nullptr));
  ERR_clear_error();
  if (!key->pkey) throw InputError(source, "", "no private key at " + uri + " (or a wrong PIN)");
  check_supported(key->pkey.get(), source);
  return Signer(std::move(key));
}

evp_pkey_st* Signer::evp_key() const { return key_->pkey.get(); }

Bytes Signer::sign(std::span<const std::uint8_t> message) const {
  // ECDSA with the scalar in this process: deterministic (rfc6979.h), so a
  // signed CoRIM or DSSE envelope is reproducible. A token's key signs with
  // the token's own k.
  if (EVP_PKEY_get_base_id(key_->pkey.get()) == EVP_PKEY_EC && !key_->engine)
    if (auto sig = ecdsa_sign_rfc6979(key_->pkey.get(), md_for(key_->pkey.get()), message))
      return *sig;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) throw InternalError("EVP_MD_CTX_new failed");
  std::size_t len = 0;
  Bytes sig;
  bool ok =
      EVP_DigestSignInit(ctx, nullptr, md_for(key_->pkey.get()), nullptr, key_->pkey.get()) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, message.data(), message.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, sig.data(), &len, message.data(), message.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) throw InternalError("signing failed: " + openssl_reason());
  return sig;
}

void Signer::check_certificate(std::span<const std::uint8_t> cert_pem,
                               const std::string& source) const {
  Bio b = mem_bio(cert_pem);
  Cert c(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!c) {
    ERR_clear_error();
    throw file_error(source, "not a PEM X.509 certificate");
  }
  Pkey pub(X509_get_pubkey(c.get()));
  if (!pub || EVP_PKEY_eq(pub.get(), key_->pkey.get()) != 1) {
    ERR_clear_error();
    throw file_error(source, "the certificate is not for the signing key");
  }
}

struct Verifier::Key {
  Pkey pkey;
};
Verifier::Verifier(std::unique_ptr<Key> k)
    : key_(std::move(k)), keyid_(keyid_of(key_->pkey.get())) {}
Verifier::~Verifier() = default;
Verifier::Verifier(Verifier&&) noexcept = default;
Verifier& Verifier::operator=(Verifier&&) noexcept = default;

Verifier Verifier::from_pem(std::span<const std::uint8_t> pem, const std::string& source) {
  Pkey k = read_public(pem, source);
  check_supported(k.get(), source);
  auto key = std::make_unique<Key>();
  key->pkey = std::move(k);
  return Verifier(std::move(key));
}

bool Verifier::verify(std::span<const std::uint8_t> message,
                      std::span<const std::uint8_t> sig) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) throw InternalError("EVP_MD_CTX_new failed");
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, md_for(key_->pkey.get()), nullptr,
                                 key_->pkey.get()) == 1 &&
            EVP_DigestVerify(ctx, sig.data(), sig.size(), message.data(), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

std::string verify_certificate_chain(std::span<const std::uint8_t> cert_pem,
                                     std::span<const std::uint8_t> ca_pem) {
  Bio b = mem_bio(cert_pem);
  Cert leaf(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!leaf) return "not a PEM certificate";
  STACK_OF(X509)* chain = sk_X509_new_null();  // further certificates in the cert file
  while (X509* extra = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr))
    sk_X509_push(chain, extra);
  ERR_clear_error();
  X509_STORE* store = X509_STORE_new();
  Bio cb = mem_bio(ca_pem);
  int anchors = 0;
  while (X509* ca = PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, ca);
    X509_free(ca);
    ++anchors;
  }
  ERR_clear_error();
  std::string problem;
  if (!anchors) {
    problem = "no PEM certificate in the CA file";
  } else {
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf.get(), chain);
    if (X509_verify_cert(ctx) != 1)
      problem = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
    X509_STORE_CTX_free(ctx);
  }
  X509_STORE_free(store);
  sk_X509_pop_free(chain, X509_free);
  return problem;
}

bool is_pkcs11_uri(std::string_view key) { return key.rfind("pkcs11:", 0) == 0; }

Signer load_signer(const SignerRequest& r, const std::function<void(const std::string&)>& warn) {
  if (is_pkcs11_uri(r.key)) return Signer::from_pkcs11(r.key, r.pkcs11_module, r.secret);
  const std::string& display = r.key_display.empty() ? r.key : r.key_display;
  const SecretBytes pem = read_secret_file(r.key, display, warn);
  return Signer::from_pem(pem, display, r.secret);
}

}  // namespace mkguest::keys
