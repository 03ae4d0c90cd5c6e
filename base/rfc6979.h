// Deterministic ECDSA (RFC 6979 §3.2, "Generation of k"), for the keys whose
// private scalar is in this process (PEM files). OpenSSL 3.0, which Debian 12
// ships, has no deterministic ECDSA (it arrived in 3.2), so signatures made by
// EVP_DigestSign differ from run to run; with RFC 6979 the same key and
// message give the same signature, and a signed CoRIM or DSSE envelope is
// reproducible byte for byte. Any ECDSA verifier accepts them: only the
// choice of k differs.
//
//   h1 = H(m), H the key's hash (P-256: SHA-256, P-384: SHA-384, P-521: SHA-512)
//   k  = the first candidate of HMAC_DRBG(H) seeded with int2octets(x) || bits2octets(h1)
//        that lies in [1, q-1] and gives r != 0 and s != 0
//   r  = (kG).x mod q,  s = k^-1 (bits2int(h1) + x r) mod q
//
// The signature is DER (ECDSA-Sig-Value), as EVP_DigestSign writes it.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <optional>
#include <span>

#include "base/encoding.h"

namespace mkguest {

// The RFC 6979 signature of `message` with the EC key `key` and digest `md`,
// or nullopt when the private scalar cannot be read (a key on a PKCS#11
// token: the token chooses k).
std::optional<Bytes> ecdsa_sign_rfc6979(EVP_PKEY* key, const EVP_MD* md,
                                        std::span<const std::uint8_t> message);

}  // namespace mkguest
