// Message digests through OpenSSL's EVP interface, streaming or one-shot, and
// hex encoding. Every digest in mkguest goes through here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkguest {

enum class HashAlg { kSha1, kSha256, kSha384, kSha512 };

using Bytes = std::vector<std::uint8_t>;

// "sha256" etc.; throws std::invalid_argument-free InputError via parse_hash_alg.
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

std::string to_hex(std::span<const std::uint8_t> data);
// Lower- or upper-case hex, even length; returns false on bad input.
bool from_hex(std::string_view hex, Bytes* out);

std::span<const std::uint8_t> as_bytes(std::string_view s);

}  // namespace mkguest
