#include "base/digest.h"

#include <openssl/evp.h>

#include "base/error.h"

namespace mkguest {

struct Hasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {
const EVP_MD* evp(HashAlg alg) {
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
}  // namespace

std::string_view hash_name(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1:
      return "sha1";
    case HashAlg::kSha256:
      return "sha256";
    case HashAlg::kSha384:
      return "sha384";
    case HashAlg::kSha512:
      return "sha512";
  }
  return "?";
}

std::size_t hash_size(HashAlg alg) {
  switch (alg) {
    case HashAlg::kSha1:
      return 20;
    case HashAlg::kSha256:
      return 32;
    case HashAlg::kSha384:
      return 48;
    case HashAlg::kSha512:
      return 64;
  }
  return 0;
}

bool parse_hash_alg(std::string_view name, HashAlg* out) {
  for (HashAlg a : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512}) {
    if (hash_name(a) == name) {
      *out = a;
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

std::string to_hex(std::span<const std::uint8_t> data) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(data.size() * 2, '0');
  for (std::size_t i = 0; i < data.size(); ++i) {
    s[2 * i] = kDigits[data[i] >> 4];
    s[2 * i + 1] = kDigits[data[i] & 15];
  }
  return s;
}

bool from_hex(std::string_view hex, Bytes* out) {
  if (hex.size() % 2) return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes b(hex.size() / 2);
  for (std::size_t i = 0; i < b.size(); ++i) {
    int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    b[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  *out = std::move(b);
  return true;
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace mkguest
