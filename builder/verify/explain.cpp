// `explain`: the results' text and JSON, and the SNP report signature check
// (ECDSA P-384 with SHA-384 over bytes 0x000..0x29F; R and S are stored
// little-endian, 72 bytes each: SEV-SNP ABI 1.58, table "ECDSA Signature").
#include "builder/verify/explain.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <sstream>

#include "base/encoding.h"
#include "base/ossl.h"
#include "builder/keys/keys.h"

namespace mkguest::attest {

const char* explain_status_name(ExplainStatus s) {
  switch (s) {
    case ExplainStatus::kMatch:
      return "match";
    case ExplainStatus::kMismatch:
      return "mismatch";
    case ExplainStatus::kNotChecked:
      break;
  }
  return "not checked";
}

bool ExplainResult::matches() const {
  return std::none_of(checks.begin(), checks.end(),
                      [](const ExplainCheck& c) { return c.status == ExplainStatus::kMismatch; });
}

namespace {

using ossl::Bignum;
using ossl::Bio;
using ossl::Cert;
using ossl::MdCtx;
using ossl::Pkey;

Cert load_certificate(const Bytes& bytes) {
  const unsigned char* p = bytes.data();
  if (Cert c{d2i_X509(nullptr, &p, static_cast<long>(bytes.size()))}) return c;
  Bio bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  return Cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

// The DER ECDSA-Sig-Value of the report's little-endian R and S.
Bytes der_signature(const evidence::SnpReport& r) {
  Bignum rn(BN_lebin2bn(r.signature_r.data(), static_cast<int>(r.signature_r.size()), nullptr));
  Bignum sn(BN_lebin2bn(r.signature_s.data(), static_cast<int>(r.signature_s.size()), nullptr));
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (!sig || !rn || !sn || ECDSA_SIG_set0(sig, rn.get(), sn.get()) != 1) {
    ECDSA_SIG_free(sig);
    return {};
  }
  rn.release();
  sn.release();
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return {};
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Bytes pem_of(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return Bytes(data, data + len);
}

// "CN ARK-Milan, SHA-256 fingerprint ..." of the chain's self-signed certificate.
std::string root_description(const Bytes& chain) {
  Bio bio(BIO_new_mem_buf(chain.data(), static_cast<int>(chain.size())));
  while (bio) {
    Cert c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!c) break;
    if (X509_check_issued(c.get(), c.get()) != X509_V_OK) continue;
    char cn[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(c.get()), NID_commonName, cn, sizeof cn);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    X509_digest(c.get(), EVP_sha256(), md, &n);
    return std::string("CN ") + cn + ", SHA-256 fingerprint " + to_hex({md, n});
  }
  return "no self-signed certificate";
}

}  // namespace

ExplainCheck check_snp_signature(const evidence::SnpReport& report, const Bytes& certificate,
                                 const std::string& certificate_name, const Bytes& chain,
                                 const std::string& chain_name) {
  ExplainCheck c{"signature", ExplainStatus::kNotChecked, {}, {}, {}, {}};
  const std::string key = evidence::snp_signing_key_name(report.signing_key);
  c.actual = "signed by the " + key;
  if (certificate.empty()) {
    c.why.push_back("the signature was not checked: give the " + key +
                    " certificate (--cert FILE) to check it");
    return c;
  }
  c.expected = certificate_name;
  const Cert cert = load_certificate(certificate);
  Pkey pub(cert ? X509_get_pubkey(cert.get()) : nullptr);
  const Bytes sig = der_signature(report);
  MdCtx md(EVP_MD_CTX_new());
  const bool ok = pub && !sig.empty() && md &&
                  EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha384(), nullptr, pub.get()) == 1 &&
                  EVP_DigestVerify(md.get(), sig.data(), sig.size(), report.signed_bytes.data(),
                                   report.signed_bytes.size()) == 1;
  if (!cert) {
    c.status = ExplainStatus::kMismatch;
    c.why.push_back(certificate_name + " is not an X.509 certificate (DER or PEM)");
    return c;
  }
  c.status = ok ? ExplainStatus::kMatch : ExplainStatus::kMismatch;
  if (!ok) {
    c.why.push_back("the report's signature does not verify with the public key of " +
                    certificate_name + ": another chip's key, or a changed report");
    return c;
  }
  c.why.push_back("the report's signature verifies with the public key of " + certificate_name);
  if (chain.empty()) {
    c.why.push_back(
        "the certificate itself was not checked against AMD's ASK and ARK (--chain "
        "FILE)");
    return c;
  }
  const std::string problem = keys::verify_certificate_chain(pem_of(cert.get()), chain);
  if (!problem.empty()) {
    c.status = ExplainStatus::kMismatch;
    c.why.push_back(certificate_name + " does not chain to " + chain_name + ": " + problem);
    return c;
  }
  c.why.push_back(certificate_name + " chains to the ARK in " + chain_name + " (" +
                  root_description(chain) + "): compare it with AMD's published ARK");
  return c;
}

std::string explain_text(const std::vector<ExplainResult>& results) {
  std::ostringstream out;
  for (const auto& r : results) {
    out << r.evidence << " (" << r.kind << "): " << (r.matches() ? "MATCH" : "MISMATCH") << "\n";
    for (const auto& c : r.checks) {
      out << "  " << c.name << ": " << explain_status_name(c.status) << "\n";
      if (!c.actual.empty()) out << "    evidence: " << c.actual << "\n";
      if (!c.expected.empty() && c.expected != c.actual)
        out << "    manifest: " << c.expected << "\n";
      for (const auto& w : c.why) out << "    " << w << "\n";
    }
  }
  return out.str();
}

json explain_json(const std::vector<ExplainResult>& results) {
  json doc = {{"match", true}, {"evidence", json::array()}};
  for (const auto& r : results) {
    json e = {
        {"file", r.evidence}, {"kind", r.kind}, {"match", r.matches()}, {"checks", json::array()}};
    for (const auto& c : r.checks)
      e["checks"].push_back({{"check", c.name},
                             {"status", explain_status_name(c.status)},
                             {"evidence", c.actual},
                             {"manifest", c.expected},
                             {"why", c.why},
                             {"details", c.details.is_null() ? json::object() : c.details}});
    doc["match"] = doc["match"].get<bool>() && r.matches();
    doc["evidence"].push_back(std::move(e));
  }
  return doc;
}

}  // namespace mkguest::attest
