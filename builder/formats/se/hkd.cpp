// Host-key document loading and verification (see se_hkd.h).
#include "builder/formats/se/hkd.h"

#include <openssl/objects.h>
#include <openssl/pem.h>

#include "base/error.h"
#include "base/file.h"
#include "builder/formats/se/crypto.h"

namespace mkguest::se {
namespace {

using BioPtr = std::unique_ptr<BIO, ossl::Deleter<BIO, BIO_free_all>>;

BioPtr mem_bio(const Bytes& b) {
  return BioPtr(BIO_new_mem_buf(b.data(), static_cast<int>(b.size())));
}

ossl::Cert load_cert(const std::string& path) {
  const Bytes b = read_file(path);
  BioPtr bio = mem_bio(b);
  ossl::Cert c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (c) {
    ossl::Cert extra(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (extra) throw file_error(path, "more than one certificate in one PEM file is not supported");
    return c;
  }
  ERR_clear_error();
  const unsigned char* p = b.data();
  c.reset(d2i_X509(nullptr, &p, static_cast<long>(b.size())));
  ERR_clear_error();
  if (!c) throw file_error(path, "not an X.509 certificate (PEM or DER)");
  return c;
}

ossl::Crl load_crl(const std::string& path) {
  const Bytes b = read_file(path);
  BioPtr bio = mem_bio(b);
  ossl::Crl c(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  if (!c) {
    ERR_clear_error();
    const unsigned char* p = b.data();
    c.reset(d2i_X509_CRL(nullptr, &p, static_cast<long>(b.size())));
  }
  ERR_clear_error();
  if (!c) throw file_error(path, "not an X.509 CRL (PEM or DER)");
  return c;
}

std::string entry(X509_NAME* n, int nid) {
  const int i = X509_NAME_get_index_by_NID(n, nid, -1);
  if (i < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

std::string name_text(X509_NAME* n) {
  char buf[512];
  X509_NAME_oneline(n, buf, sizeof buf);
  return buf;
}

std::string cert_error(X509_STORE_CTX* ctx) {
  const int e = X509_STORE_CTX_get_error(ctx);
  std::string s = X509_verify_cert_error_string(e);
  if (X509* c = X509_STORE_CTX_get_current_cert(ctx))
    s += " (at " + name_text(X509_get_subject_name(c)) + ")";
  return s;
}

// 0 when `at` lies within [not_before, not_after]; -1 before, 1 after.
int period(const ASN1_TIME* nb, const ASN1_TIME* na, std::time_t at) {
  std::time_t t = at;
  if (X509_cmp_time(nb, &t) > 0) return -1;
  if (X509_cmp_time(na, &t) < 0) return 1;
  return 0;
}

}  // namespace

bool has_ibm_signing_subject(X509* cert) {
  X509_NAME* n = X509_get_subject_name(cert);
  if (X509_NAME_entry_count(n) != 6) return false;
  const std::string ibm = "International Business Machines Corporation";
  const std::string l = entry(n, NID_localityName), ou = entry(n, NID_organizationalUnitName);
  const std::string suffix = " Key Signing Service";
  return entry(n, NID_countryName) == "US" && entry(n, NID_stateOrProvinceName) == "New York" &&
         (l == "Poughkeepsie" || l == "Armonk") && entry(n, NID_organizationName) == ibm &&
         entry(n, NID_commonName) == ibm && ou.size() >= suffix.size() &&
         ou.compare(ou.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<HostKey> load_host_keys(const HkdOptions& o) {
  if (o.host_key_docs.empty())
    throw ValueError("at least one host-key document is needed (-k/--host-key-document)");
  std::vector<HostKey> keys;
  for (const auto& path : o.host_key_docs) {
    HostKey k;
    k.path = path;
    k.cert = load_cert(path);
    k.key.reset(X509_get_pubkey(k.cert.get()));
    if (!k.key) throw file_error(path, "the host-key document has no usable public key");
    keys.push_back(std::move(k));
  }
  const std::time_t now = o.at;
  if (!o.no_verify) {
    ossl::Store store(X509_STORE_new());
    if (!store) ossl::fail("X509_STORE_new");
    if (!o.root_ca.empty()) {
      ossl::Cert root = load_cert(o.root_ca);
      if (X509_STORE_add_cert(store.get(), root.get()) != 1) ossl::fail("adding the root CA");
    } else if (X509_STORE_set_default_paths(store.get()) != 1) {
      ossl::fail("loading the system's root certificates");
    }
    std::vector<ossl::Crl> crls;
    for (const auto& p : o.crls) {
      crls.push_back(load_crl(p));
      if (X509_STORE_add_crl(store.get(), crls.back().get()) != 1) ossl::fail("adding " + p);
    }
    struct StackFree {
      void operator()(STACK_OF(X509) * s) const { sk_X509_free(s); }
    };
    std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
    std::vector<ossl::Cert> certs;
    X509* signing = nullptr;
    std::string signing_path;
    for (const auto& p : o.certs) {
      certs.push_back(load_cert(p));
      if (has_ibm_signing_subject(certs.back().get())) {
        if (signing)
          throw file_error(p, "a second IBM Z signing certificate (the first is " + signing_path +
                                  "); give only one");
        signing = certs.back().get();
        signing_path = p;
      } else {
        sk_X509_push(untrusted.get(), certs.back().get());
      }
    }
    if (!signing)
      throw file_error(
          o.certs.empty() ? std::string("--cert") : o.certs.front(),
          "no IBM Z signing certificate among --cert (its subject must be C=US, ST=New York, "
          "L=Poughkeepsie or Armonk, O=CN=International Business Machines Corporation, "
          "OU=... Key Signing Service); give it with -C, or skip verification with "
          "--no-verify");
    ossl::StoreCtx ctx(X509_STORE_CTX_new());
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), signing, untrusted.get()) != 1)
      ossl::fail("X509_STORE_CTX_init");
    X509_VERIFY_PARAM* vp = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_flags(
        vp, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_X509_STRICT);
    X509_VERIFY_PARAM_set_auth_level(vp, 2);
    X509_VERIFY_PARAM_set_time(vp, now);
    if (X509_verify_cert(ctx.get()) != 1) {
      const std::string why = cert_error(ctx.get());
      ERR_clear_error();
      throw file_error(signing_path, "the IBM Z signing certificate does not verify: " + why);
    }
    if (sk_X509_num(X509_STORE_CTX_get0_chain(ctx.get())) < 2)
      throw file_error(signing_path, "the chain of trust needs a root CA and the certificate");
    // The signing certificate's own CRL: issued and signed by it, current.
    EVP_PKEY* signing_key = X509_get0_pubkey(signing);
    X509_CRL* signing_crl = nullptr;
    for (const auto& c : crls) {
      if (X509_NAME_cmp(X509_CRL_get_issuer(c.get()), X509_get_subject_name(signing)) != 0)
        continue;
      if (X509_CRL_verify(c.get(), signing_key) != 1 ||
          period(X509_CRL_get0_lastUpdate(c.get()), X509_CRL_get0_nextUpdate(c.get()), now) != 0) {
        ERR_clear_error();
        continue;
      }
      signing_crl = c.get();
    }
    if (!signing_crl)
      throw file_error(signing_path,
                       "no valid CRL issued by the IBM Z signing certificate (give it with --crl)");
    for (auto& k : keys) {
      if (EVP_PKEY_get_security_bits(k.key.get()) < 112)
        throw file_error(k.path, "the host key has " +
                                     std::to_string(EVP_PKEY_get_security_bits(k.key.get())) +
                                     " bits of security, fewer than 112");
      if (X509_NAME_cmp(X509_get_issuer_name(k.cert.get()), X509_get_subject_name(signing)) != 0 ||
          X509_verify(k.cert.get(), signing_key) != 1) {
        ERR_clear_error();
        throw file_error(k.path, "not issued by the IBM Z signing certificate " + signing_path +
                                     " (issuer " + name_text(X509_get_issuer_name(k.cert.get())) +
                                     ")");
      }
      const int p =
          period(X509_get0_notBefore(k.cert.get()), X509_get0_notAfter(k.cert.get()), now);
      if (p != 0)
        throw file_error(k.path, p < 0 ? "the host-key document is not valid yet"
                                       : "the host-key document has expired");
      X509_REVOKED* rev = nullptr;
      if (X509_CRL_get0_by_cert(signing_crl, &rev, k.cert.get()) == 1)
        throw file_error(k.path, "the host-key document is revoked (CRL of " + signing_path + ")");
    }
  }
  for (auto& k : keys) {
    try {
      require_p521(k.key.get(), k.path);
    } catch (const InputError&) {
      throw file_error(k.path, "the host-key document does not use the P-521 curve (secp521r1)");
    }
    k.phkh = public_key_hash(k.key.get());
  }
  return keys;
}

}  // namespace mkguest::se
