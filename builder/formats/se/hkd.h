// IBM Z host-key documents (HKDs): X.509 certificates carrying a host's
// P-521 public key, issued by the "IBM Z Host Key Signing Service"
// certificate. Verified the way genprotimg 2.35 verifies them (docs/se.md):
//   1. exactly one IBM Z signing certificate among --cert, recognised by its
//      subject: C=US, ST=New York, L=Poughkeepsie or Armonk, O and CN
//      "International Business Machines Corporation", OU ending in
//      " Key Signing Service", and nothing else (6 entries);
//   2. its chain to the root CA (--root-ca, else the system store) through
//      the other --cert certificates, with CRLs for every link;
//   3. a valid CRL issued by the signing certificate;
//   4. per HKD (the signing certificate is not a CA, so by hand): issuer =
//      the signing certificate's subject, signature, validity period, not
//      revoked, at least 112 bits of security, and the P-521 curve.
// No CRL is ever downloaded: they are given with --crl (genprotimg's
// --offline behaviour).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/ossl.h"

namespace mkguest::se {

struct HkdOptions {
  std::vector<std::string> host_key_docs;
  std::vector<std::string> certs;  // the IBM Z signing certificate and intermediate CAs
  std::vector<std::string> crls;
  std::string root_ca;  // empty: the system's trusted roots
  bool no_verify = false;
  std::time_t at = 0;  // verification time: the caller's clock (only the CLI reads it)
};

struct HostKey {
  std::string path;
  ossl::Cert cert;
  ossl::Pkey key;  // the public key
  Bytes phkh;      // SHA-256(x80 || y80)
};

// Loads (and unless no_verify, verifies) every HKD, in order. Errors name the
// file and what failed; nothing is skipped silently.
std::vector<HostKey> load_host_keys(const HkdOptions& o);

// The subject test of step 1 (exposed for tests).
bool has_ibm_signing_subject(X509* cert);

}  // namespace mkguest::se
