#include "base/rfc6979.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>

#include <memory>
#include <string>

#include "base/ossl.h"

namespace mkguest {
namespace {

using ossl::Bignum;

struct BnCtxFree {
  void operator()(BN_CTX* c) const { BN_CTX_free(c); }
};
struct GroupFree {
  void operator()(EC_GROUP* g) const { EC_GROUP_free(g); }
};
struct PointFree {
  void operator()(EC_POINT* p) const { EC_POINT_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
// Secret scalars are wiped when freed.
struct ClearFree {
  void operator()(BIGNUM* b) const { BN_clear_free(b); }
};
using Secret = std::unique_ptr<BIGNUM, ClearFree>;

Bignum bn() {
  Bignum b(BN_new());
  if (!b) ossl::fail("BN_new");
  return b;
}

Secret secret_bn() {
  Secret b(BN_secure_new());
  if (!b) ossl::fail("BN_secure_new");
  BN_set_flags(b.get(), BN_FLG_CONSTTIME);
  return b;
}

// The HMAC_DRBG of RFC 6979 §3.2 steps b-h, over the key's hash.
class HmacDrbg {
 public:
  HmacDrbg(const EVP_MD* md, const Bytes& x_octets, const Bytes& h_octets)
      : md_(md),
        len_(static_cast<std::size_t>(EVP_MD_get_size(md))),
        v_(len_, 0x01),
        k_(len_, 0x00) {
    reseed(0x00, x_octets, h_octets);
    reseed(0x01, x_octets, h_octets);
  }
  ~HmacDrbg() {
    OPENSSL_cleanse(v_.data(), v_.size());
    OPENSSL_cleanse(k_.data(), k_.size());
  }
  // T of at least `bytes` bytes (step h.2).
  Bytes generate(std::size_t bytes) {
    Bytes t;
    while (t.size() < bytes) {
      v_ = mac(k_, v_);
      t.insert(t.end(), v_.begin(), v_.end());
    }
    return t;
  }
  // Step h.3: K = HMAC_K(V || 0x00), V = HMAC_K(V).
  void reject() {
    Bytes m = v_;
    m.push_back(0x00);
    k_ = mac(k_, m);
    v_ = mac(k_, v_);
  }

 private:
  void reseed(std::uint8_t sep, const Bytes& x, const Bytes& h) {
    Bytes m = v_;
    m.push_back(sep);
    m.insert(m.end(), x.begin(), x.end());
    m.insert(m.end(), h.begin(), h.end());
    k_ = mac(k_, m);
    v_ = mac(k_, v_);
    OPENSSL_cleanse(m.data(), m.size());
  }
  Bytes mac(const Bytes& key, const Bytes& data) const {
    Bytes out(EVP_MAX_MD_SIZE);
    unsigned int n = 0;
    if (!HMAC(md_, key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(),
              &n))
      ossl::fail("HMAC");
    out.resize(n);
    return out;
  }

  const EVP_MD* md_;
  std::size_t len_;
  Bytes v_, k_;
};

// bits2int (§2.3.2): the leftmost qlen bits of `b` as an integer.
void bits2int(BIGNUM* out, const Bytes& b, int qlen) {
  if (!BN_bin2bn(b.data(), static_cast<int>(b.size()), out)) ossl::fail("BN_bin2bn");
  const int blen = static_cast<int>(8 * b.size());
  if (blen > qlen && !BN_rshift(out, out, blen - qlen)) ossl::fail("BN_rshift");
}

// int2octets (§2.3.3): rlen bytes, big-endian.
Bytes int2octets(const BIGNUM* v, int rlen) {
  Bytes out(static_cast<std::size_t>(rlen));
  if (BN_bn2binpad(v, out.data(), rlen) != rlen) ossl::fail("BN_bn2binpad");
  return out;
}

}  // namespace

std::optional<Bytes> ecdsa_sign_rfc6979(EVP_PKEY* key, const EVP_MD* md,
                                        std::span<const std::uint8_t> message) {
  BIGNUM* raw_x = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &raw_x) != 1) {
    ERR_clear_error();
    return std::nullopt;  // not in this process (an engine key)
  }
  Secret x(raw_x);
  BN_set_flags(x.get(), BN_FLG_CONSTTIME);
  char name[64] = {};
  std::size_t name_len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name,
                                     &name_len) != 1)
    ossl::fail("reading the EC key's group");
  std::unique_ptr<EC_GROUP, GroupFree> group(EC_GROUP_new_by_curve_name(OBJ_txt2nid(name)));
  if (!group) ossl::fail(std::string("EC group ") + name);
  std::unique_ptr<BN_CTX, BnCtxFree> ctx(BN_CTX_secure_new());
  if (!ctx) ossl::fail("BN_CTX_secure_new");
  const BIGNUM* q = EC_GROUP_get0_order(group.get());
  const int qlen = BN_num_bits(q);
  const int rlen = (qlen + 7) / 8;

  // h1 = H(m); e = bits2int(h1) mod q; bits2octets(h1) = int2octets(e).
  Bytes h1(static_cast<std::size_t>(EVP_MD_get_size(md)));
  unsigned int h1_len = 0;
  if (EVP_Digest(message.data(), message.size(), h1.data(), &h1_len, md, nullptr) != 1)
    ossl::fail("EVP_Digest");
  Bignum e = bn();
  bits2int(e.get(), h1, qlen);
  if (BN_cmp(e.get(), q) >= 0 && !BN_sub(e.get(), e.get(), q)) ossl::fail("BN_sub");
  Bytes x_octets = int2octets(x.get(), rlen);
  HmacDrbg drbg(md, x_octets, int2octets(e.get(), rlen));
  OPENSSL_cleanse(x_octets.data(), x_octets.size());

  Secret k = secret_bn(), kinv = secret_bn();
  Bignum r = bn(), s = bn(), q_minus_2 = bn(), ax = bn();
  if (!BN_copy(q_minus_2.get(), q) || !BN_sub_word(q_minus_2.get(), 2)) ossl::fail("BN_sub_word");
  std::unique_ptr<EC_POINT, PointFree> point(EC_POINT_new(group.get()));
  if (!point) ossl::fail("EC_POINT_new");
  for (;;) {
    Bytes t = drbg.generate(static_cast<std::size_t>(rlen));
    bits2int(k.get(), t, qlen);
    OPENSSL_cleanse(t.data(), t.size());
    if (!BN_is_zero(k.get()) && BN_cmp(k.get(), q) < 0) {
      // r = (kG).x mod q
      if (!EC_POINT_mul(group.get(), point.get(), k.get(), nullptr, nullptr, ctx.get()) ||
          !EC_POINT_get_affine_coordinates(group.get(), point.get(), ax.get(), nullptr,
                                           ctx.get()) ||
          !BN_nnmod(r.get(), ax.get(), q, ctx.get()))
        ossl::fail("computing r");
      // s = k^-1 (e + x r) mod q, k^-1 = k^(q-2) mod q in constant time.
      if (!BN_mod_exp_mont_consttime(kinv.get(), k.get(), q_minus_2.get(), q, ctx.get(), nullptr) ||
          !BN_mod_mul(s.get(), x.get(), r.get(), q, ctx.get()) ||
          !BN_mod_add(s.get(), s.get(), e.get(), q, ctx.get()) ||
          !BN_mod_mul(s.get(), s.get(), kinv.get(), q, ctx.get()))
        ossl::fail("computing s");
      if (!BN_is_zero(r.get()) && !BN_is_zero(s.get())) break;
    }
    drbg.reject();
  }

  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  if (!sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) ossl::fail("ECDSA_SIG_set0");
  (void)r.release();  // owned by sig now
  (void)s.release();
  const int der_len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (der_len <= 0) ossl::fail("i2d_ECDSA_SIG");
  Bytes der(static_cast<std::size_t>(der_len));
  unsigned char* p = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &p) != der_len) ossl::fail("i2d_ECDSA_SIG");
  return der;
}

}  // namespace mkguest
