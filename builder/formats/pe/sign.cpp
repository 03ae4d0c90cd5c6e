// Authenticode signing and verification of PE images (see pe_sign.h).
#include "builder/formats/pe/sign.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>

#include "base/byte_reader.h"
#include "base/error.h"
#include "base/ossl.h"
#include "builder/formats/pe/authenticode.h"
#include "builder/formats/pe/image.h"

namespace mkguest {
namespace {

constexpr const char* kSpcIndirectData = "1.3.6.1.4.1.311.2.1.4";
constexpr std::uint16_t kWinCertRevision = 0x0200, kWinCertPkcs7 = 0x0002;

struct P7Free {
  void operator()(PKCS7* p) const { PKCS7_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct StoreFree {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return "OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// DER: tag, definite length, content.
Bytes tlv(std::uint8_t tag, std::span<const std::uint8_t> content) {
  Bytes out{tag};
  const std::size_t n = content.size();
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    Bytes len;
    for (std::size_t v = n; v; v >>= 8) len.insert(len.begin(), static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(0x80 | len.size()));
    out.insert(out.end(), len.begin(), len.end());
  }
  out.insert(out.end(), content.begin(), content.end());
  return out;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes oid(const char* dotted) {
  ASN1_OBJECT* o = OBJ_txt2obj(dotted, 1);
  unsigned char* der = nullptr;
  const int n = o ? i2d_ASN1_OBJECT(o, &der) : -1;
  ASN1_OBJECT_free(o);
  if (n <= 0) throw InternalError("cannot encode OID " + std::string(dotted));
  Bytes out(der, der + n);
  OPENSSL_free(der);
  return out;
}

// SpcIndirectDataContent { SpcAttributeTypeAndOptionalValue { SPC_PE_IMAGE_DATA,
// SpcPeImageData { flags '' (sbsign's), file [0] { [2] { [0] "<<<Obsolete>>>" } } } },
// DigestInfo }.
Bytes indirect_data(HashAlg alg, std::span<const std::uint8_t> image_digest) {
  Bytes obsolete;
  for (char c : std::string("<<<Obsolete>>>")) {
    obsolete.push_back(0);
    obsolete.push_back(static_cast<std::uint8_t>(c));
  }
  const Bytes link = tlv(0xA0, tlv(0xA2, tlv(0x80, obsolete)));
  const Bytes pe_image_data = tlv(0x30, cat({Bytes{0x03, 0x01, 0x00}, link}));
  const Bytes attr = tlv(0x30, cat({oid("1.3.6.1.4.1.311.2.1.15"), pe_image_data}));
  const Bytes alg_id = tlv(0x30, cat({oid(hash_info(alg).oid), Bytes{0x05, 0x00}}));
  const Bytes digest_info = tlv(0x30, cat({alg_id, tlv(0x04, image_digest)}));
  return tlv(0x30, cat({attr, digest_info}));
}

// The content octets of a DER TLV (what messageDigest covers).
std::span<const std::uint8_t> der_content(std::span<const std::uint8_t> der) {
  if (der.size() < 2) return {};
  std::size_t hdr = 2;
  if (der[1] & 0x80) hdr += der[1] & 0x7f;
  return hdr <= der.size() ? der.subspan(hdr) : std::span<const std::uint8_t>();
}

void put16(Bytes& b, std::size_t o, std::uint16_t v) {
  b[o] = v & 0xff;
  b[o + 1] = v >> 8;
}
void put32(Bytes& b, std::size_t o, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[o + i] = (v >> (8 * i)) & 0xff;
}

}  // namespace

Bytes authenticode_signed_digest(std::span<const std::uint8_t> image, const std::string& source,
                                 HashAlg alg) {
  if (image.size() % 8 == 0) return pe::authenticode_digest(image, source, alg);
  Bytes padded(image.begin(), image.end());
  padded.resize((padded.size() + 7) / 8 * 8, 0);
  return pe::authenticode_digest(padded, source, alg);
}

std::uint32_t pe_checksum(std::span<const std::uint8_t> image, std::size_t checksum_offset) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i + 1 < image.size(); i += 2) {
    if (i == checksum_offset || i == checksum_offset + 2) continue;
    sum += image[i] | (image[i + 1] << 8);
    sum = (sum & 0xffff) + (sum >> 16);
  }
  if (image.size() % 2) sum += image.back();
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint32_t>(sum + image.size());
}

Bytes sign_pe(std::span<const std::uint8_t> image, const std::string& source,
              const keys::Signer& key, std::span<const std::uint8_t> cert_pem,
              const std::string& cert_source, const PeSignOptions& options) {
  const pe::PeImage p = pe::parse_pe_image(image, source);
  const pe::DataDirectory* dir = p.certificate_directory();
  if (!dir) throw file_error(source, "the PE has no certificate table directory entry");
  key.check_certificate(cert_pem, cert_source);
  Bytes out(image.begin(), image.end());
  std::size_t table = out.size();
  if (dir->size != 0) {
    if (!options.append)
      throw offset_error(source, dir->offset,
                         "the image is already signed (append to add a signature)");
    if (dir->address + static_cast<std::uint64_t>(dir->size) != image.size())
      throw offset_error(source, dir->offset,
                         "the certificate table is not at the end of the file");
    table = dir->address;
  }
  // The digest covers the image as it will be: padded to 8, certificates excluded.
  Bytes unsigned_image(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(table));
  unsigned_image.resize((unsigned_image.size() + 7) / 8 * 8, 0);
  put32(unsigned_image, dir->offset, 0);
  put32(unsigned_image, dir->offset + 4, 0);
  const Bytes image_digest = pe::authenticode_digest(unsigned_image, source, options.digest);
  const Bytes idc = indirect_data(options.digest, image_digest);

  std::unique_ptr<BIO, BioFree> cbio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr));
  if (!cert) throw file_error(cert_source, "not a PEM X.509 certificate: " + openssl_error());
  std::unique_ptr<PKCS7, P7Free> p7(PKCS7_new());
  if (!p7 || !PKCS7_set_type(p7.get(), NID_pkcs7_signed))
    throw InternalError("PKCS7_new: " + openssl_error());
  PKCS7_SIGNER_INFO* si =
      PKCS7_add_signature(p7.get(), cert.get(), key.evp_key(), ossl::evp_md(options.digest));
  if (!si) throw InputError(cert_source, "", "cannot sign with this key: " + openssl_error());
  PKCS7_add_certificate(p7.get(), cert.get());
  // The content: SpcIndirectDataContent, carried as an "other" type.
  PKCS7* inner = PKCS7_new();
  inner->type = OBJ_txt2obj(kSpcIndirectData, 1);
  ASN1_STRING* seq = ASN1_STRING_new();
  ASN1_STRING_set(seq, idc.data(), static_cast<int>(idc.size()));
  inner->d.other = ASN1_TYPE_new();
  ASN1_TYPE_set(inner->d.other, V_ASN1_SEQUENCE, seq);
  if (!PKCS7_set_content(p7.get(), inner)) {
    PKCS7_free(inner);
    throw InternalError("PKCS7_set_content: " + openssl_error());
  }
  // Signed attributes: contentType, signingTime (optional), messageDigest.
  const auto content = der_content(idc);
  const Bytes md = digest(options.digest, content);
  bool ok = PKCS7_add_signed_attribute(si, NID_pkcs9_contentType, V_ASN1_OBJECT,
                                       OBJ_txt2obj(kSpcIndirectData, 1)) == 1 &&
            PKCS7_add1_attrib_digest(si, md.data(), static_cast<int>(md.size())) == 1;
  if (ok && options.signing_time)
    ok = PKCS7_add0_attrib_signing_time(si, ASN1_TIME_set(nullptr, *options.signing_time)) == 1;
  if (!ok || PKCS7_SIGNER_INFO_sign(si) != 1)
    throw InternalError("signing failed: " + openssl_error());
  unsigned char* der = nullptr;
  const int der_len = i2d_PKCS7(p7.get(), &der);
  if (der_len <= 0) throw InternalError("i2d_PKCS7: " + openssl_error());
  Bytes pkcs7(der, der + der_len);
  OPENSSL_free(der);

  // The WIN_CERTIFICATE, padded to 8, after the image padded to 8.
  Bytes signed_image(out.begin(), out.end());
  if (dir->size == 0) signed_image.resize((signed_image.size() + 7) / 8 * 8, 0);
  const std::size_t start = dir->size == 0 ? signed_image.size() : table;
  const std::uint32_t entry = static_cast<std::uint32_t>((8 + pkcs7.size() + 7) / 8 * 8);
  Bytes wc(entry, 0);
  put32(wc, 0, entry);
  put16(wc, 4, kWinCertRevision);
  put16(wc, 6, kWinCertPkcs7);
  std::copy(pkcs7.begin(), pkcs7.end(), wc.begin() + 8);
  signed_image.insert(signed_image.end(), wc.begin(), wc.end());
  put32(signed_image, dir->offset, static_cast<std::uint32_t>(start));
  put32(signed_image, dir->offset + 4, static_cast<std::uint32_t>(signed_image.size() - start));
  put32(signed_image, p.checksum_offset, 0);
  put32(signed_image, p.checksum_offset, pe_checksum(signed_image, p.checksum_offset));
  return signed_image;
}

std::vector<PeSignatureInfo> verify_pe_signatures(std::span<const std::uint8_t> image,
                                                  const std::string& source,
                                                  std::span<const std::uint8_t> ca_pem) {
  std::vector<PeSignatureInfo> out;
  const pe::PeImage p = pe::parse_pe_image(image, source);
  const pe::DataDirectory* dir = p.certificate_directory();
  if (!dir || dir->size == 0) return out;
  ByteReader r(image, source);
  std::unique_ptr<X509_STORE, StoreFree> store;
  if (!ca_pem.empty()) {
    store.reset(X509_STORE_new());
    std::unique_ptr<BIO, BioFree> b(
        BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
    while (X509* c = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store.get(), c);
      X509_free(c);
    }
    ERR_clear_error();
    X509_STORE_set_purpose(store.get(), X509_PURPOSE_ANY);
  }
  std::size_t at = dir->address;
  const std::size_t end = static_cast<std::size_t>(dir->address) + dir->size;
  while (at + 8 <= end) {
    const std::uint32_t len = r.le32(at);
    if (len < 8 || len > end - at)
      r.fail(at, "WIN_CERTIFICATE length " + std::to_string(len) + " is invalid");
    PeSignatureInfo info;
    if (r.le16(at + 6) != kWinCertPkcs7) {
      info.error = "not a PKCS#7 certificate (type " + hex_offset(r.le16(at + 6)) + ")";
      out.push_back(info);
      at += (len + 7) / 8 * 8;
      continue;
    }
    const auto der = r.bytes(at + 8, len - 8);
    const unsigned char* q = der.data();
    std::unique_ptr<PKCS7, P7Free> p7(d2i_PKCS7(nullptr, &q, static_cast<long>(der.size())));
    if (!p7 || !PKCS7_type_is_signed(p7.get()) || !p7->d.sign->contents ||
        OBJ_obj2nid(p7->d.sign->contents->type) != NID_undef || !p7->d.sign->contents->d.other ||
        p7->d.sign->contents->d.other->type != V_ASN1_SEQUENCE) {
      ERR_clear_error();
      info.error = "not an Authenticode SignedData";
      out.push_back(info);
      at += (len + 7) / 8 * 8;
      continue;
    }
    const ASN1_STRING* s = p7->d.sign->contents->d.other->value.sequence;
    const std::span<const std::uint8_t> idc(ASN1_STRING_get0_data(s),
                                            static_cast<std::size_t>(ASN1_STRING_length(s)));
    // The DigestInfo is the last element: SEQ { SEQ { OID, NULL }, OCTET STRING }.
    for (HashAlg alg : {HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512, HashAlg::kSha1}) {
      const Bytes want_oid = oid(hash_info(alg).oid);
      const std::size_t n = hash_size(alg);
      if (idc.size() < n + 2) continue;
      const auto tail = idc.subspan(idc.size() - n - 2);
      if (tail[0] != 0x04 || tail[1] != n) continue;
      const std::string prefix(reinterpret_cast<const char*>(idc.data()), idc.size() - n - 2);
      if (prefix.find(std::string(want_oid.begin(), want_oid.end())) == std::string::npos) continue;
      info.digest_algorithm = std::string(hash_name(alg));
      info.signed_digest = to_hex(tail.subspan(2));
      info.digest_matches =
          info.signed_digest == to_hex(pe::authenticode_digest(image, source, alg));
      break;
    }
    STACK_OF(X509)* signers = PKCS7_get0_signers(p7.get(), nullptr, 0);
    if (signers && sk_X509_num(signers) > 0) {
      char name[512];
      X509_NAME_oneline(X509_get_subject_name(sk_X509_value(signers, 0)), name, sizeof name);
      info.subject = name;
    }
    sk_X509_free(signers);
    const auto content = der_content(idc);
    std::unique_ptr<BIO, BioFree> data(
        BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
    info.signature_valid = PKCS7_verify(p7.get(), nullptr, nullptr, data.get(), nullptr,
                                        PKCS7_BINARY | PKCS7_NOVERIFY) == 1;
    if (!info.signature_valid)
      info.error = "the PKCS#7 signature does not verify: " + openssl_error();
    if (store) {
      std::unique_ptr<BIO, BioFree> data2(
          BIO_new_mem_buf(content.data(), static_cast<int>(content.size())));
      info.chain_trusted =
          PKCS7_verify(p7.get(), nullptr, store.get(), data2.get(), nullptr, PKCS7_BINARY) == 1;
      if (!info.chain_trusted && info.error.empty())
        info.error = "the signer is not trusted by the CA: " + openssl_error();
    }
    ERR_clear_error();
    if (!info.digest_matches && info.error.empty())
      info.error = "the signed digest is not the image's";
    out.push_back(info);
    at += (len + 7) / 8 * 8;
  }
  return out;
}

}  // namespace mkguest
