#include "base/digest.h"

#include <openssl/evp.h>

#include "base/error.h"
#include "base/ossl.h"

namespace mkguest {

struct Hasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {
constexpr HashAlgInfo kHashAlgs[] = {
    {HashAlg::kSha1, "sha1", 20, "1.3.14.3.2.26", 0x0004},
    {HashAlg::kSha256, "sha256", 32, "2.16.840.1.101.3.4.2.1", 0x000B},
    {HashAlg::kSha384, "sha384", 48, "2.16.840.1.101.3.4.2.2", 0x000C},
    {HashAlg::kSha512, "sha512", 64, "2.16.840.1.101.3.4.2.3", 0x000D},
};
const EVP_MD* evp(HashAlg alg) { return ossl::evp_md(alg); }
}  // namespace

const HashAlgInfo& hash_info(HashAlg alg) {
  for (const HashAlgInfo& i : kHashAlgs) {
    if (i.alg == alg) return i;
  }
  throw InternalError("unknown hash algorithm");
}

std::string_view hash_name(HashAlg alg) { return hash_info(alg).name; }

std::size_t hash_size(HashAlg alg) { return hash_info(alg).size; }

const EVP_MD* ossl::evp_md(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1:
      return EVP_sha1();
    case HashAlg::kSha256:
      return EVP_sha256();
    case HashAlg::kSha384:
      return EVP_sha384();
    case HashAlg::kSha512:
      return EVP_sha512();
  }
  throw InternalError("unknown hash algorithm");
}

bool parse_hash_alg(std::string_view name, HashAlg* out) {
  for (const HashAlgInfo& i : kHashAlgs) {
    if (i.name == name) {
      *out = i.alg;
      return true;
    }
  }
  return false;
}

Hasher::Hasher(HashAlg alg) : alg_(alg), ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  if (!ctx_->md) throw InternalError("EVP_MD_CTX_new failed");
  reset();
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::reset() {
  if (EVP_DigestInit_ex(ctx_->md, evp(alg_), nullptr) != 1) {
    throw InternalError("EVP_DigestInit_ex failed");
  }
}

Hasher& Hasher::update(std::span<const std::uint8_t> data) {
  if (!data.empty() && EVP_DigestUpdate(ctx_->md, data.data(), data.size()) != 1) {
    throw InternalError("EVP_DigestUpdate failed");
  }
  return *this;
}

Hasher& Hasher::update(std::string_view data) { return update(as_bytes(data)); }

void Hasher::finish(std::uint8_t* out) {
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md, out, &len) != 1) {
    throw InternalError("EVP_DigestFinal_ex failed");
  }
  reset();
}

Bytes Hasher::finish() {
  Bytes out(size());
  finish(out.data());
  return out;
}

Hasher Hasher::clone() const {
  Hasher h(alg_);
  if (EVP_MD_CTX_copy_ex(h.ctx_->md, ctx_->md) != 1) {
    throw InternalError("EVP_MD_CTX_copy_ex failed");
  }
  return h;
}

Bytes digest(HashAlg alg, std::span<const std::uint8_t> data) {
  Bytes out(hash_size(alg));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, evp(alg), nullptr) != 1) {
    throw InternalError("EVP_Digest failed");
  }
  return out;
}

Bytes digest(HashAlg alg, std::string_view data) { return digest(alg, as_bytes(data)); }

}  // namespace mkguest
