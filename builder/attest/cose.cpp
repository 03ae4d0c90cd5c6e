// COSE_Sign1 signing and verification of CoRIMs; layout in cose.h.
#include "builder/attest/cose.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "base/encoding.h"
#include "base/error.h"
#include "base/ossl.h"
#include "builder/attest/cbor.h"

namespace mkguest::attest {

namespace c = cbor;

namespace {

constexpr std::int64_t kEs256 = -7, kEs384 = -35, kEs512 = -36, kEdDsa = -8, kRs256 = -257;
constexpr std::uint64_t kTagEpoch = 1;

using EcdsaSig = std::unique_ptr<ECDSA_SIG, ossl::Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

// Bytes of each of r and s in a COSE ECDSA signature (RFC 9053 §2.1).
std::size_t ecdsa_half(std::int64_t alg) {
  return alg == kEs256 ? 32 : alg == kEs384 ? 48 : alg == kEs512 ? 66 : 0;
}

Bytes der_to_raw(const Bytes& der, std::size_t half) {
  const unsigned char* p = der.data();
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) throw InternalError("ECDSA signature is not DER");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  Bytes out(2 * half);
  if (BN_bn2binpad(r, out.data(), static_cast<int>(half)) < 0 ||
      BN_bn2binpad(s, out.data() + half, static_cast<int>(half)) < 0)
    throw InternalError("ECDSA signature does not fit the curve size");
  return out;
}

// An empty result when `raw` is not r || s of the right size.
Bytes raw_to_der(const Bytes& raw, std::size_t half) {
  if (raw.size() != 2 * half) return {};
  EcdsaSig sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr);
  if (!sig || !r || !s || !ECDSA_SIG_set0(sig.get(), r, s)) {
    BN_free(r);
    BN_free(s);
    throw InternalError("OpenSSL: out of memory");
  }
  int n = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (n <= 0) throw InternalError("OpenSSL: ECDSA signature encoding failed");
  Bytes der(static_cast<std::size_t>(n));
  unsigned char* p = der.data();
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

c::Item validity_map(const CorimValidity& v) {
  return c::map({{c::uint(0), c::tag(kTagEpoch, c::integer(v.not_before))},
                 {c::uint(1), c::tag(kTagEpoch, c::integer(v.not_after))}});
}

Bytes sig_structure(const Bytes& protected_bytes, std::span<const std::uint8_t> payload) {
  return c::encode(c::array(
      {c::text("Signature1"), c::bytes(protected_bytes), c::bytes({}), c::bytes(payload)}));
}

}  // namespace

std::int64_t cose_alg(const keys::Signer& signer) {
  EVP_PKEY* k = signer.evp_key();
  switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_ED25519:
      return kEdDsa;
    case EVP_PKEY_RSA:
      return kRs256;
    case EVP_PKEY_EC:
      switch (EVP_PKEY_get_bits(k)) {
        case 256:
          return kEs256;
        case 384:
          return kEs384;
        case 521:
          return kEs512;
      }
      break;
  }
  throw ValueError(
      "the signing key has no COSE algorithm here (ECDSA P-256/384/521, Ed25519, RSA)");
}

Bytes corim_sign(std::span<const std::uint8_t> corim, const keys::Signer& signer,
                 const CorimSignOptions& o) {
  const std::int64_t alg = cose_alg(signer);
  Bytes kid;
  if (!from_hex(signer.keyid(), &kid)) throw InternalError("keyid is not hex");
  Bytes meta = c::encode(c::map({{c::uint(0), c::map({{c::uint(0), c::text(o.signer_name)}})},
                                 {c::uint(1), validity_map(o.validity)}}));
  Bytes prot = c::encode(c::map({{c::uint(1), c::integer(alg)},
                                 {c::uint(3), c::text(kCorimContentType)},
                                 {c::uint(4), c::bytes(kid)},
                                 {c::uint(8), c::bytes(meta)}}));
  Bytes sig = signer.sign(sig_structure(prot, corim));
  if (std::size_t half = ecdsa_half(alg)) sig = der_to_raw(sig, half);
  return c::encode(c::tag(kCborTagCoseSign1,
                          c::array({c::bytes(prot), c::map({}), c::bytes(corim), c::bytes(sig)})));
}

bool looks_like_cose_sign1(std::span<const std::uint8_t> data) {
  return !data.empty() && data[0] == 0xd2;  // major type 6, tag 18
}

namespace {

// A signed CoRIM's parts, its shape checked strictly.
struct CoseParts {
  Bytes prot, payload, sig;
  std::int64_t alg = 0;
};

CoseParts read_cose(std::span<const std::uint8_t> data, const std::string& source) {
  auto bad = [&](const std::string& what) {
    return file_error(source, "not a signed CoRIM: " + what);
  };
  // The tag head 0xd2 (tag 18) is read here: libcbor 0.8 refuses tags 6..20.
  if (!looks_like_cose_sign1(data)) throw offset_error(source, 0, "no COSE_Sign1 tag (18)");
  std::vector<c::Item> parts = c::array_items(c::decode(data.subspan(1), source, 1));
  if (parts.size() != 4) throw bad("COSE_Sign1 is not an array of 4");
  CoseParts p;
  if (!c::get_bytes(parts[0], &p.prot)) throw bad("the protected header is not a byte string");
  if (!c::is_map(parts[1])) throw bad("the unprotected header is not a map");
  if (!c::get_bytes(parts[2], &p.payload))
    throw bad("the payload is not a byte string (detached payloads are not read)");
  if (!c::get_bytes(parts[3], &p.sig)) throw bad("the signature is not a byte string");
  c::Item hdr = c::decode(p.prot, source + " (protected header)");
  if (!c::get_int(c::map_get(hdr, 1), &p.alg)) throw bad("the protected header has no alg (1)");
  const std::int64_t alg = p.alg;
  if (alg != kEs256 && alg != kEs384 && alg != kEs512 && alg != kEdDsa && alg != kRs256)
    throw bad("alg " + std::to_string(alg) + " is not ES256, ES384, ES512, EdDSA or RS256");
  std::string type;
  if (!c::get_text(c::map_get(hdr, 3), &type) || type != kCorimContentType)
    throw bad("the content type (3) is not " + std::string(kCorimContentType));
  c::Item corim = c::decode(p.payload, source + " (payload)");
  if (!c::is_tag(corim, kCborTagCorim)) throw bad("the payload is not a CoRIM (tag 501)");
  return p;
}

}  // namespace

CoseSigned cose_signed_content(std::span<const std::uint8_t> data, const std::string& source) {
  CoseParts p = read_cose(data, source);
  return {p.alg, sig_structure(p.prot, p.payload)};
}

bool cose_alg_is_randomised(std::int64_t alg) {
  return alg == kEs256 || alg == kEs384 || alg == kEs512;
}

CoseResult corim_verify(std::span<const std::uint8_t> data, const std::vector<keys::Verifier>& keys,
                        const std::string& source) {
  CoseParts p = read_cose(data, source);
  CoseResult r;
  r.payload = p.payload;
  Bytes sig = std::move(p.sig);
  const std::int64_t alg = p.alg;
  Bytes tbs = sig_structure(p.prot, r.payload);
  if (std::size_t half = ecdsa_half(alg)) {
    sig = raw_to_der(sig, half);
    if (sig.empty()) {
      r.problem = "the signature is not r || s of the algorithm's size";
      return r;
    }
  }
  r.problem = "the signature does not verify with the given key(s)";
  for (const auto& k : keys) {
    if (k.verify(tbs, sig)) {
      r.ok = true;
      r.keyid = k.keyid();
      r.problem.clear();
      break;
    }
  }
  return r;
}

}  // namespace mkguest::attest
