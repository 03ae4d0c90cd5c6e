// Secure Boot (Authenticode) signatures of PE images with OpenSSL
// (Microsoft "Windows Authenticode Portable Executable Signature Format";
// PE/COFF rev. 11 "The Attribute Certificate Table").
//
// Layout of a signed image:
//   the image, zero-padded to a multiple of 8
//   WIN_CERTIFICATE { u32 dwLength, u16 wRevision 0x0200,
//                     u16 wCertificateType 0x0002 (PKCS_SIGNED_DATA),
//                     DER PKCS#7 SignedData, zero padding to 8 }
//   DataDirectory[4] = { file offset of the WIN_CERTIFICATE, its padded size }
//   CheckSum recomputed (16-bit one's-complement sum + file length)
// The SignedData's content is SpcIndirectDataContent (1.3.6.1.4.1.311.2.1.4)
// { SpcPeImageData, DigestInfo { alg, Authenticode digest of the padded image } };
// its messageDigest attribute is the digest of that content's octets without
// the outer SEQUENCE header. RSA PKCS#1 v1.5 and ECDSA signatures; the signing
// time is fixed or absent, so signing twice gives the same bytes (RSA).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "builder/keys/keys.h"

namespace mkguest {

struct PeSignOptions {
  HashAlg digest = HashAlg::kSha256;
  std::optional<std::int64_t> signing_time;  // seconds since 1970; none: no signingTime
  bool append = false;                       // add to an existing signature instead of refusing
};

// The signed image. Throws InputError for a malformed PE, an image that is
// already signed (unless append), or a certificate that does not hold the key.
Bytes sign_pe(std::span<const std::uint8_t> image, const std::string& source,
              const keys::Signer& key, std::span<const std::uint8_t> cert_pem,
              const std::string& cert_source, const PeSignOptions& options);

// The Authenticode digest a signer signs: the image zero-padded to 8 first
// (pesign --padding, sbsign, osslsigncode); equal to the firmware's digest
// for images whose size is a multiple of 8.
Bytes authenticode_signed_digest(std::span<const std::uint8_t> image, const std::string& source,
                                 HashAlg alg);

// The PE checksum (the CheckSum field taken as zero).
std::uint32_t pe_checksum(std::span<const std::uint8_t> image, std::size_t checksum_offset);

struct PeSignatureInfo {
  std::string digest_algorithm;  // "sha256"...
  std::string signed_digest;     // hex, from the DigestInfo
  std::string subject;           // the signer certificate's subject
  bool digest_matches = false;   // the signed digest is the image's
  bool signature_valid = false;  // PKCS#7 signature and messageDigest check out
  bool chain_trusted = false;    // to `ca_pem`, when one was given
  std::string error;             // why not, in words
};

// Every signature in the certificate table, checked against the image.
std::vector<PeSignatureInfo> verify_pe_signatures(std::span<const std::uint8_t> image,
                                                  const std::string& source,
                                                  std::span<const std::uint8_t> ca_pem = {});

}  // namespace mkguest
