// The cryptography of IBM Secure Execution images (docs/se.md), on OpenSSL:
// ECDH P-521 key slots (KEK = SHA-256(shared x, 66 bytes || 00 00 00 01),
// ANSI X9.63 with one round), AES-256-GCM for the header and the slots, and
// AES-256-XTS page by page for the components (tweak = 16-byte big-endian
// number that grows by 0x1000 per page).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/digest.h"
#include "base/ossl.h"

namespace mkguest::se {

// Where keys, IVs and tweaks come from: the system CSPRNG, or (tests only) a
// seed expanded with SHA-256. Both draw in the same order.
class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;
  Bytes bytes(std::size_t n) {
    Bytes b(n);
    fill(b);
    return b;
  }
};
std::unique_ptr<Random> system_random();
// UNSAFE FOR PRODUCTION: every secret becomes a function of `seed`.
std::unique_ptr<Random> seeded_random(const std::string& seed);

// A P-521 private key whose scalar comes from `rnd` (1 <= d < n).
ossl::Pkey generate_p521(Random& rnd);
// Loads a PEM key or certificate; a non-P-521 key is an InputError naming `source`.
ossl::Pkey load_p521_private_pem(std::span<const std::uint8_t> pem, const std::string& source);
void require_p521(EVP_PKEY* key, const std::string& source);

// x (80 bytes) || y (80 bytes), each coordinate left-padded from 66 bytes.
Bytes p521_public_xy(EVP_PKEY* key);
// A P-521 public key from the 160-byte form above.
ossl::Pkey p521_from_xy(std::span<const std::uint8_t> xy, const std::string& source);
// SHA-256(x80 || y80): the key-slot hash (phkh).
Bytes public_key_hash(EVP_PKEY* key);
// The key-encryption key of a slot: SHA-256(ECDH x || 00 00 00 01).
Bytes slot_kek(EVP_PKEY* own_private, EVP_PKEY* peer_public);

// AES-256-GCM with a 16-byte tag.
Bytes gcm_encrypt(std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv,
                  std::span<const std::uint8_t> aad, std::span<const std::uint8_t> plain,
                  Bytes* tag);
// False when the tag does not verify.
bool gcm_decrypt(std::span<const std::uint8_t> key, std::span<const std::uint8_t> iv,
                 std::span<const std::uint8_t> aad, std::span<const std::uint8_t> cipher,
                 std::span<const std::uint8_t> tag, Bytes* plain);

// AES-256-XTS over whole 4 KiB pages: page i uses tweak + i * 0x1000.
class XtsPages {
 public:
  XtsPages(std::span<const std::uint8_t> key64, bool encrypt);
  // `in` and `out` are a multiple of 4096 bytes; `tweak` is that of in[0].
  void run(std::array<std::uint8_t, 16> tweak, std::span<const std::uint8_t> in,
           std::span<std::uint8_t> out);

 private:
  ossl::CipherCtx ctx_;
  Bytes key_;
  bool encrypt_;
};

// Adds `v` to a 16-byte big-endian number.
void add_be128(std::array<std::uint8_t, 16>& n, std::uint64_t v);

}  // namespace mkguest::se
