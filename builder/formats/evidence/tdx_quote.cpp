// The TDX DCAP quote v4 reader (layout in tdx_quote.h). Every field is read
// through ByteReader at its absolute offset; the quote must end where its
// signature data end, so trailing bytes or a short file are refused.
#include "builder/formats/evidence/tdx_quote.h"

#include <cstdio>

#include "base/byte_reader.h"
#include "base/error.h"
#include "builder/formats/evidence/fields.h"

namespace mkguest::evidence {
namespace {

std::string hex(std::uint64_t v) {
  char s[24];
  std::snprintf(s, sizeof s, "0x%llx", static_cast<unsigned long long>(v));
  return s;
}

}  // namespace

TdxQuote parse_tdx_quote(std::span<const std::uint8_t> bytes, const std::string& source) {
  const ByteReader r(bytes, source);
  TdxQuote q;
  r.need(0, kTdxQuoteHeaderSize, "the quote header");
  q.version = r.le16(0x00);
  if (q.version != 4)
    r.fail(0x00, "quote VERSION " + std::to_string(q.version) +
                     " is not one this reader knows (4, a TDX quote v4)");
  q.att_key_type = r.le16(0x02);
  if (q.att_key_type != 2 && q.att_key_type != 3)
    r.fail(0x02, "ATTESTATION_KEY_TYPE " + std::to_string(q.att_key_type) +
                     " is unknown (2 ECDSA P-256, 3 ECDSA P-384)");
  q.tee_type = r.le32(0x04);
  if (q.tee_type != kTdxTeeType)
    r.fail(0x04, "TEE_TYPE " + hex(q.tee_type) +
                     (q.tee_type == 0 ? " is an SGX quote" : " is unknown") + ", not TDX (0x81)");
  q.qe_svn = r.le16(0x08);
  q.pce_svn = r.le16(0x0A);
  q.qe_vendor_id = copy(r, 0x0C, 16);
  q.user_data = copy(r, 0x1C, 20);
  const std::size_t b = kTdxQuoteHeaderSize;
  r.need(b, kTdxQuoteBodySize, "the TD quote body");
  q.tee_tcb_svn = copy(r, b + 0x000, 16);
  q.mrseam = copy(r, b + 0x010, 48);
  q.mrsignerseam = copy(r, b + 0x040, 48);
  q.seam_attributes = r.le64(b + 0x070);
  q.td_attributes = r.le64(b + 0x078);
  q.xfam = r.le64(b + 0x080);
  q.mrtd = copy(r, b + 0x088, 48);
  q.mrconfigid = copy(r, b + 0x0B8, 48);
  q.mrowner = copy(r, b + 0x0E8, 48);
  q.mrownerconfig = copy(r, b + 0x118, 48);
  for (std::size_t i = 0; i < 4; ++i) q.rtmr[i] = copy(r, b + 0x148 + 48 * i, 48);
  q.report_data = copy(r, b + 0x208, 64);
  const std::size_t len_at = b + kTdxQuoteBodySize;
  const std::uint32_t sig_len = r.le32(len_at);
  const std::size_t sig_at = len_at + 4;
  if (sig_len != bytes.size() - sig_at)
    r.fail(len_at, "QUOTE_SIGNATURE_DATA_LEN " + std::to_string(sig_len) +
                       " does not end the quote: " + std::to_string(bytes.size() - sig_at) +
                       " bytes follow it");
  q.signature_data = copy(r, sig_at, sig_len);
  return q;
}

}  // namespace mkguest::evidence
