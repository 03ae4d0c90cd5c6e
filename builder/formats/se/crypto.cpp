// IBM SE cryptography on OpenSSL 3 (see se_crypto.h).
#include "builder/formats/se/crypto.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstring>

namespace mkguest::se {
namespace {

constexpr std::size_t kCoord = 66, kPadded = 80, kPage = 4096;

class SystemRandom : public Random {
 public:
  void fill(std::span<std::uint8_t> out) override {
    if (out.empty()) return;
    if (RAND_priv_bytes(out.data(), static_cast<int>(out.size())) != 1)
      ossl::fail("RAND_priv_bytes");
  }
};

class SeededRandom : public Random {
 public:
  explicit SeededRandom(std::string seed) : seed_(std::move(seed)) {}
  void fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) {
      if (pos_ == block_.size()) refill();
      b = block_[pos_++];
    }
  }

 private:
  void refill() {
    Hasher h(HashAlg::kSha256);
    h.update("mkguest se test seed");
    std::uint8_t c[8];
    for (int i = 0; i < 8; ++i) c[i] = static_cast<std::uint8_t>(counter_ >> (56 - 8 * i));
    h.update(std::span<const std::uint8_t>(c, 8));
    h.update(seed_);
    block_ = h.finish();
    ++counter_;
    pos_ = 0;
  }
  std::string seed_;
  Bytes block_;
  std::size_t pos_ = 0;
  std::uint64_t counter_ = 0;
};

ossl::Bignum bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) ossl::fail(std::string("reading ") + name);
  return ossl::Bignum(bn);
}

// A P-521 key from its uncompressed public point (and, for a key pair, the
// private scalar); null when OpenSSL refuses the parameters.
ossl::Pkey p521_from_params(const unsigned char* oct, std::size_t oct_len, const BIGNUM* priv) {
  std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>> bld(
      OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "secp521r1", 0) != 1 ||
      (priv && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1) ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, oct, oct_len) != 1)
    ossl::fail("building P-521 key parameters");
  std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM, OSSL_PARAM_free>> params(
      OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1)
    return nullptr;
  return ossl::Pkey(key);
}

}  // namespace

std::unique_ptr<Random> system_random() { return std::make_unique<SystemRandom>(); }
std::unique_ptr<Random> seeded_random(const std::string& seed) {
  return std::make_unique<SeededRandom>(seed);
}

ossl::Pkey generate_p521(Random& rnd) {
  std::unique_ptr<EC_GROUP, ossl::Deleter<EC_GROUP, EC_GROUP_free>> group(
      EC_GROUP_new_by_curve_name(NID_secp521r1));
  if (!group) ossl::fail("EC_GROUP_new_by_curve_name(secp521r1)");
  const BIGNUM* order = EC_GROUP_get0_order(group.get());
  // 74 random bytes reduced modulo n - 1, plus 1: uniform enough (bias < 2^-70).
  const Bytes r = rnd.bytes(74);
  ossl::Bignum d(BN_bin2bn(r.data(), static_cast<int>(r.size()), nullptr));
  ossl::Bignum nm1(BN_dup(order));
  std::unique_ptr<BN_CTX, ossl::Deleter<BN_CTX, BN_CTX_free>> bctx(BN_CTX_new());
  if (!d || !nm1 || !bctx || BN_sub_word(nm1.get(), 1) != 1 ||
      BN_mod(d.get(), d.get(), nm1.get(), bctx.get()) != 1 || BN_add_word(d.get(), 1) != 1)
    ossl::fail("deriving a P-521 scalar");
  std::unique_ptr<EC_POINT, ossl::Deleter<EC_POINT, EC_POINT_free>> pub(EC_POINT_new(group.get()));
  if (!pub || EC_POINT_mul(group.get(), pub.get(), d.get(), nullptr, nullptr, bctx.get()) != 1)
    ossl::fail("EC_POINT_mul");
  unsigned char oct[1 + 2 * kCoord];
  if (EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, oct, sizeof oct,
                         bctx.get()) != sizeof oct)
    ossl::fail("EC_POINT_point2oct");
  ossl::Pkey key = p521_from_params(oct, sizeof oct, d.get());
  if (!key) ossl::fail("EVP_PKEY_fromdata(P-521)");
  BN_clear(d.get());
  return key;
}

void require_p521(EVP_PKEY* key, const std::string& source) {
  char name[64] = {0};
  std::size_t len = 0;
  if (!key || !EVP_PKEY_is_a(key, "EC") ||
      EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) !=
          1 ||
      std::string(name, len) != "secp521r1") {
    ERR_clear_error();
    throw file_error(source, "the key is not an EC key on the P-521 curve (secp521r1)" +
                                 (len ? std::string(", but on ") + name : std::string()));
  }
}

ossl::Pkey load_p521_private_pem(std::span<const std::uint8_t> pem, const std::string& source) {
  std::unique_ptr<BIO, ossl::Deleter<BIO, BIO_free_all>> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ossl::Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    throw file_error(source, "not a PEM private key");
  }
  require_p521(key.get(), source);
  return key;
}

Bytes p521_public_xy(EVP_PKEY* key) {
  Bytes out(2 * kPadded, 0);
  const ossl::Bignum x = bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X);
  const ossl::Bignum y = bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y);
  if (BN_bn2binpad(x.get(), out.data(), kPadded) != kPadded ||
      BN_bn2binpad(y.get(), out.data() + kPadded, kPadded) != kPadded)
    ossl::fail("BN_bn2binpad");
  return out;
}

ossl::Pkey p521_from_xy(std::span<const std::uint8_t> xy, const std::string& source) {
  if (xy.size() != 2 * kPadded) throw InternalError("a P-521 public key is 160 bytes here");
  for (std::size_t i = 0; i < kPadded - kCoord; ++i) {
    if (xy[i] || xy[kPadded + i])
      throw file_error(source, "the customer public key's padding is not zero");
  }
  unsigned char oct[1 + 2 * kCoord];
  oct[0] = 4;
  std::memcpy(oct + 1, xy.data() + kPadded - kCoord, kCoord);
  std::memcpy(oct + 1 + kCoord, xy.data() + 2 * kPadded - kCoord, kCoord);
  ossl::Pkey k = p521_from_params(oct, sizeof oct, nullptr);
  if (!k) {
    ERR_clear_error();
    throw file_error(source, "the customer public key is not a point on P-521");
  }
  ossl::PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, k.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    throw file_error(source, "the customer public key is not a point on P-521");
  }
  return k;
}

Bytes public_key_hash(EVP_PKEY* key) { return digest(HashAlg::kSha256, p521_public_xy(key)); }

Bytes slot_kek(EVP_PKEY* own_private, EVP_PKEY* peer_public) {
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own_private, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer_public) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1 || len != kCoord)
    ossl::fail("ECDH (P-521)");
  Bytes shared(kCoord + 4, 0);
  if (EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != kCoord)
    ossl::fail("ECDH (P-521)");
  shared[kCoord + 3] = 1;
  Bytes kek = digest(HashAlg::kSha256, shared);
  OPENSSL_cleanse(shared.data(), shared.size());
  return kek;
}

Bytes gcm_encrypt(std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv,
                  std::span<const std::uint8_t> aad, std::span<const std::uint8_t> plain,
                  Bytes* tag) {
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  Bytes out(plain.size());
  int n = 0;
  if (!ctx || key.size() != 32 || iv.size() != 12 ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), iv.data()) != 1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1) ||
      (!plain.empty() && EVP_EncryptUpdate(ctx.get(), out.data(), &n, plain.data(),
                                           static_cast<int>(plain.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + out.size(), &n) != 1)
    ossl::fail("AES-256-GCM encryption");
  tag->assign(16, 0);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag->data()) != 1)
    ossl::fail("AES-256-GCM tag");
  return out;
}

bool gcm_decrypt(std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv,
                 std::span<const std::uint8_t> aad, std::span<const std::uint8_t> cipher,
                 std::span<const std::uint8_t> tag, Bytes* plain) {
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  plain->assign(cipher.size(), 0);
  int n = 0;
  Bytes t(tag.begin(), tag.end());
  if (!ctx || key.size() != 32 || iv.size() != 12 || tag.size() != 16 ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), iv.data()) != 1 ||
      (!aad.empty() &&
       EVP_DecryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1) ||
      (!cipher.empty() && EVP_DecryptUpdate(ctx.get(), plain->data(), &n, cipher.data(),
                                            static_cast<int>(cipher.size())) != 1) ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, t.data()) != 1)
    ossl::fail("AES-256-GCM decryption");
  const bool ok = EVP_DecryptFinal_ex(ctx.get(), plain->data() + plain->size(), &n) == 1;
  ERR_clear_error();
  if (!ok) plain->clear();
  return ok;
}

void add_be128(std::array<std::uint8_t, 16>& n, std::uint64_t v) {
  unsigned carry = 0;
  for (int i = 15; i >= 0; --i) {
    const unsigned add = static_cast<unsigned>(v & 0xff) + carry;
    const unsigned s = n[i] + add;
    n[i] = static_cast<std::uint8_t>(s);
    carry = s >> 8;
    v >>= 8;
  }
}

XtsPages::XtsPages(std::span<const std::uint8_t> key64, bool encrypt)
    : ctx_(EVP_CIPHER_CTX_new()), key_(key64.begin(), key64.end()), encrypt_(encrypt) {
  if (!ctx_ || key_.size() != 64) ossl::fail("AES-256-XTS setup");
}

void XtsPages::run(std::array<std::uint8_t, 16> tweak, std::span<const std::uint8_t> in,
                   std::span<std::uint8_t> out) {
  if (in.size() != out.size() || in.size() % kPage)
    throw InternalError("XTS input is not whole pages");
  for (std::size_t off = 0; off < in.size(); off += kPage) {
    int n = 0;
    if (EVP_CipherInit_ex(ctx_.get(), EVP_aes_256_xts(), nullptr, key_.data(), tweak.data(),
                          encrypt_ ? 1 : 0) != 1 ||
        EVP_CipherUpdate(ctx_.get(), out.data() + off, &n, in.data() + off, kPage) != 1 ||
        n != static_cast<int>(kPage))
      ossl::fail("AES-256-XTS");
    add_be128(tweak, kPage);
  }
}

}  // namespace mkguest::se
