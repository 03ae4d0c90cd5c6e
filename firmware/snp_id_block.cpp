#include "firmware/snp_id_block.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <memory>
#include <optional>

#include "base/byte_writer.h"
#include "base/error.h"
#include "base/rfc6979.h"

namespace mkguest {

namespace {

constexpr std::size_t kIntLen = 72;

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Free>;

Ptr<EVP_PKEY> load_key(const std::string& pem, const std::string& name) {
  Ptr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw file_error(name, "not a PEM private key (or it is encrypted)");
  char curve[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC ||
      !EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                      &len) ||
      std::string(curve) != "secp384r1") {
    throw file_error(name, "SNP ID and author keys must be EC P-384 (secp384r1) keys");
  }
  return key;
}

void put_le(ByteWriter& w, const BIGNUM* bn) {
  std::uint8_t buf[kIntLen] = {};
  if (BN_bn2lebinpad(bn, buf, kIntLen) != static_cast<int>(kIntLen)) {
    throw InternalError("BN_bn2lebinpad failed");
  }
  w.append(std::span<const std::uint8_t>(buf, kIntLen));
}

Bytes public_key_struct(EVP_PKEY* key) {
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
      !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y)) {
    BN_free(x);
    throw InternalError("cannot read the EC public key");
  }
  Ptr<BIGNUM> px(x), py(y);
  ByteWriter w;
  w.le32(2);  // P-384
  put_le(w, px.get());
  put_le(w, py.get());
  w.zeros(0x370);
  return w.take();
}

// ECDSA P-384 with SHA-384 and RFC 6979's deterministic nonce (base/rfc6979.h),
// so the same keys and inputs give the same ID auth structure.
Bytes sign(EVP_PKEY* key, const Bytes& data) {
  const std::optional<Bytes> signed_der = ecdsa_sign_rfc6979(key, EVP_sha384(), data);
  if (!signed_der) throw InternalError("ECDSA signing failed: the private key is not readable");
  const Bytes& der = *signed_der;
  const std::size_t len = der.size();
  const std::uint8_t* p = der.data();
  Ptr<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
  if (!sig) throw InternalError("cannot decode the ECDSA signature");
  ByteWriter w;
  put_le(w, ECDSA_SIG_get0_r(sig.get()));
  put_le(w, ECDSA_SIG_get0_s(sig.get()));
  w.zeros(368);
  return w.take();
}

}  // namespace

Bytes snp_id_block_bytes(const SnpIdBlockInputs& in) {
  if (in.launch_digest.size() != 48 || in.family_id.size() != 16 || in.image_id.size() != 16) {
    throw InternalError("ID block fields have the wrong sizes");
  }
  ByteWriter w;
  w.append(in.launch_digest);
  w.append(in.family_id);
  w.append(in.image_id);
  w.le32(in.version);
  w.le32(in.guest_svn);
  w.le64(in.policy);
  return w.take();
}

SnpIdBlock snp_make_id_block(const SnpIdBlockInputs& in, const std::string& id_key_pem,
                             const std::string& id_key_name, const std::string& author_key_pem,
                             const std::string& author_key_name) {
  Ptr<EVP_PKEY> id_key = load_key(id_key_pem, id_key_name);
  Ptr<EVP_PKEY> author_key = load_key(author_key_pem, author_key_name);
  SnpIdBlock out;
  out.id_block = snp_id_block_bytes(in);
  Bytes id_pub = public_key_struct(id_key.get());
  Bytes author_pub = public_key_struct(author_key.get());
  ByteWriter w;
  w.le32(1);
  w.le32(1);
  w.zeros(56);
  w.append(sign(id_key.get(), out.id_block));
  w.append(id_pub);
  w.zeros(60);
  w.append(sign(author_key.get(), id_pub));
  w.append(author_pub);
  w.zeros(892);
  out.id_auth = w.take();
  out.id_key_digest = digest(HashAlg::kSha384, id_pub);
  out.author_key_digest = digest(HashAlg::kSha384, author_pub);
  return out;
}

bool snp_verify_signature(const Bytes& key, const Bytes& sig, const Bytes& data) {
  if (key.size() != 1028 || sig.size() != 512) return false;
  Ptr<BIGNUM> x(BN_lebin2bn(key.data() + 4, kIntLen, nullptr));
  Ptr<BIGNUM> y(BN_lebin2bn(key.data() + 4 + kIntLen, kIntLen, nullptr));
  // Uncompressed point 04 || X || Y (48 bytes each for P-384).
  Bytes point(97, 0);
  point[0] = 4;
  if (BN_bn2binpad(x.get(), point.data() + 1, 48) != 48 ||
      BN_bn2binpad(y.get(), point.data() + 49, 48) != 48) {
    return false;
  }
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "secp384r1", 0);
  OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* raw = nullptr;
  bool ok = pctx && EVP_PKEY_fromdata_init(pctx) == 1 &&
            EVP_PKEY_fromdata(pctx, &raw, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(pctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  if (!ok) return false;
  Ptr<EVP_PKEY> pkey(raw);
  Ptr<ECDSA_SIG> s(ECDSA_SIG_new());
  ECDSA_SIG_set0(s.get(), BN_lebin2bn(sig.data(), kIntLen, nullptr),
                 BN_lebin2bn(sig.data() + kIntLen, kIntLen, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(s.get(), &der);
  Ptr<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  bool good = der_len > 0 &&
              EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, pkey.get()) == 1 &&
              EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(der_len), data.data(),
                               data.size()) == 1;
  OPENSSL_free(der);
  return good;
}

}  // namespace mkguest
