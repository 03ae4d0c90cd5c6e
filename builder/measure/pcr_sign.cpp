// The signed PCR 11 policy (see pcr_sign.h).
#include "builder/measure/pcr_sign.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <set>

#include "base/encoding.h"
#include "base/error.h"
#include "base/ossl.h"

namespace mkguest {
namespace {

Bytes sign_with(EVP_PKEY* k, HashAlg alg, std::span<const std::uint8_t> msg) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  Bytes sig;
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, ossl::evp_md(alg), nullptr, k) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, msg.data(), msg.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok = EVP_DigestSign(ctx, sig.data(), &len, msg.data(), msg.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) throw InternalError("signing the PCR policy failed");
  return sig;
}

}  // namespace

std::string pcr_signature_json(const keys::Signer& key, const PcrSignRequest& r,
                               PcrJsonStyle style) {
  EVP_PKEY* k = key.evp_key();
  if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
    throw ValueError("the PCR signing key must be an RSA key (the TPM verifies RSASSA)");
  unsigned char* der = nullptr;
  const int n = i2d_PublicKey(k, &der);
  if (n <= 0) throw InternalError("cannot encode the PCR public key");
  const std::string pkfp = to_hex(digest(HashAlg::kSha256, std::span<const std::uint8_t>(der, n)));
  OPENSSL_free(der);

  std::set<std::string> banks;
  for (const auto& b : r.banks) banks.insert(b);
  if (banks.empty()) banks = {"sha1", "sha256", "sha384", "sha512"};
  std::set<std::string> phases(r.phases.begin(), r.phases.end());
  if (phases.empty())
    for (const auto& p : tpm::default_phases()) phases.insert(p);
  const bool pretty = style == PcrJsonStyle::kPretty;
  // Separators: between members, between a key and its value, and the
  // indentation of each nesting level (systemd's pretty form uses tabs).
  const std::string sep = style == PcrJsonStyle::kUkify ? ", " : ",";
  const std::string colon = pretty ? " : " : style == PcrJsonStyle::kUkify ? ": " : ":";
  auto nl = [&](int depth) { return pretty ? "\n" + std::string(depth, '\t') : std::string(); };
  auto member = [&](int depth, const std::string& k, const std::string& v) {
    return nl(depth) + "\"" + k + "\"" + colon + v;
  };
  std::string out = "{";
  bool first_bank = true;
  for (const auto& bank : banks) {
    HashAlg alg;
    if (!parse_hash_alg(bank, &alg)) throw ValueError("unknown PCR bank '" + bank + "'");
    out += (first_bank ? "" : sep) + member(1, bank, "[");
    first_bank = false;
    bool first = true;
    for (const auto& phase : phases) {
      const Bytes value = tpm::pcr11(alg, r.sections, r.stub_major, phase);
      const Bytes pol = tpm::policy_pcr11(alg, value);
      const Bytes sig = sign_with(k, alg, pol);
      out += (first ? "" : sep) + nl(2) + "{" +
             member(3, "pcrs", "[" + nl(4) + "11" + nl(3) + "]") + sep +
             member(3, "pkfp", "\"" + pkfp + "\"") + sep +
             member(3, "pol", "\"" + to_hex(pol) + "\"") + sep +
             member(3, "sig", "\"" + base64_encode(sig) + "\"") + nl(2) + "}";
      first = false;
    }
    out += nl(1) + "]";
  }
  return out + nl(0) + "}";
}

std::string pcr_signature_json(const keys::Signer& key, const PcrSignRequest& r, bool ukify_style) {
  return pcr_signature_json(key, r, ukify_style ? PcrJsonStyle::kUkify : PcrJsonStyle::kShort);
}

void sign_uki_profiles(const keys::Signer& key, PcrSignRequest r,
                       std::span<const std::uint8_t> stub, UkiContents& c) {
  c.pcrsig.reset();
  for (auto& j : c.joined) j.pcrsig.reset();
  const UkiSections sections = ukify_sections(stub, c);
  for (std::size_t i = 0; i < profile_count(sections.list); ++i) {
    r.sections.clear();
    for (const auto& s : profile_view(sections.list, i)) r.sections.push_back({s.name, s.data});
    const std::string json = pcr_signature_json(key, r, PcrJsonStyle::kUkify);
    (i == 0 ? c.pcrsig : c.joined[i - 1].pcrsig) = Bytes(json.begin(), json.end());
  }
}

void check_pcr_public_key(const keys::Signer& key, std::span<const std::uint8_t> pub_pem,
                          const std::string& source) {
  keys::refuse_private_pem(pub_pem, source);
  BIO* b = BIO_new_mem_buf(pub_pem.data(), static_cast<int>(pub_pem.size()));
  EVP_PKEY* pub = PEM_read_bio_PUBKEY(b, nullptr, nullptr, nullptr);
  if (!pub) {
    BIO_reset(b);
    if (X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) {
      pub = X509_get_pubkey(c);
      X509_free(c);
    }
  }
  BIO_free(b);
  ERR_clear_error();
  if (!pub) throw file_error(source, "not a PEM public key or certificate");
  const bool same = EVP_PKEY_eq(pub, key.evp_key()) == 1;
  EVP_PKEY_free(pub);
  if (!same) throw file_error(source, "this public key is not the PCR private key's");
}

}  // namespace mkguest
