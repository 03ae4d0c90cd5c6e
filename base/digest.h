// Message digests through OpenSSL's EVP interface, streaming or one-shot, and
// the one table of hash algorithms (name, size, OID, TPM id; the EVP_MD is
// ossl::evp_md in base/ossl.h). Every digest in mkguest goes through here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"

namespace mkguest {

enum class HashAlg { kSha1, kSha256, kSha384, kSha512 };

// What mkguest needs to know of a hash algorithm, in one table.
struct HashAlgInfo {
  HashAlg alg;
  std::string_view name;  // "sha256"
  std::size_t size;       // digest bytes
  const char* oid;        // "2.16.840.1.101.3.4.2.1"
  std::uint16_t tpm_id;   // TPM2_ALG_SHA256 = 0x000B
};
const HashAlgInfo& hash_info(HashAlg alg);

// "sha256" etc.
std::string_view hash_name(HashAlg alg);
std::size_t hash_size(HashAlg alg);
// Parses "sha1", "sha256", "sha384", "sha512" (lower case). Returns false if unknown.
bool parse_hash_alg(std::string_view name, HashAlg* out);

// A streaming digest. Cheap to reset and reuse; copyable state via clone().
class Hasher {
 public:
  explicit Hasher(HashAlg alg);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  HashAlg alg() const { return alg_; }
  std::size_t size() const { return hash_size(alg_); }
  Hasher& update(std::span<const std::uint8_t> data);
  Hasher& update(std::string_view data);
  // Writes size() bytes to out and resets the hasher for reuse.
  void finish(std::uint8_t* out);
  Bytes finish();
  void reset();
  Hasher clone() const;

 private:
  struct Ctx;
  HashAlg alg_;
  std::unique_ptr<Ctx> ctx_;
};

Bytes digest(HashAlg alg, std::span<const std::uint8_t> data);
Bytes digest(HashAlg alg, std::string_view data);

}  // namespace mkguest
