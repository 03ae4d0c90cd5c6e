// The TDX TDREPORT reader (layout in tdx_report.h): every field through
// ByteReader at its absolute offset, every reserved range zero.
#include "builder/formats/evidence/tdx_report.h"

#include <cstdio>

#include "base/byte_reader.h"
#include "base/error.h"
#include "builder/formats/evidence/fields.h"

namespace mkguest::evidence {
namespace {

constexpr std::size_t kTeeTcbInfo = 0x100;
constexpr std::size_t kTdInfo = 0x200;

}  // namespace

TdxReport parse_tdx_report(std::span<const std::uint8_t> bytes, const std::string& source) {
  const ByteReader r(bytes, source);
  if (bytes.size() != kTdxReportSize)
    r.fail(bytes.size() < kTdxReportSize ? bytes.size() : kTdxReportSize,
           "a TDREPORT is 1024 bytes, this file is " + std::to_string(bytes.size()));
  TdxReport t;
  t.type = r.u8(0x00);
  if (t.type != kTdxTeeType)
    r.fail(0x00, "REPORTTYPE.TYPE " + std::to_string(t.type) + " is not TDX (0x81)");
  t.subtype = r.u8(0x01);
  if (t.subtype != 0)
    r.fail(0x01, "REPORTTYPE.SUBTYPE " + std::to_string(t.subtype) + " is unknown (0)");
  t.version = r.u8(0x02);
  if (t.version > 1)
    r.fail(0x02, "REPORTTYPE.VERSION " + std::to_string(t.version) + " is unknown (0 or 1)");
  must_be_zero(r, 0x03, 1, "REPORTTYPE's last byte");
  must_be_zero(r, 0x04, 12, "0x04..0x0f");
  t.cpusvn = copy(r, 0x10, 16);
  t.tee_tcb_info_hash = copy(r, 0x20, 48);
  t.tee_info_hash = copy(r, 0x50, 48);
  t.body.report_data = copy(r, 0x80, 64);
  must_be_zero(r, 0xC0, 32, "0xc0..0xdf");
  t.mac = copy(r, 0xE0, 32);
  t.body.tee_tcb_svn = copy(r, kTeeTcbInfo + 0x08, 16);
  t.body.mrseam = copy(r, kTeeTcbInfo + 0x18, 48);
  t.body.mrsignerseam = copy(r, kTeeTcbInfo + 0x48, 48);
  t.body.seam_attributes = r.le64(kTeeTcbInfo + 0x78);
  must_be_zero(r, 0x1EF, 17, "0x1ef..0x1ff");
  t.body.td_attributes = r.le64(kTdInfo + 0x00);
  t.body.xfam = r.le64(kTdInfo + 0x08);
  t.body.mrtd = copy(r, kTdInfo + 0x10, 48);
  t.body.mrconfigid = copy(r, kTdInfo + 0x40, 48);
  t.body.mrowner = copy(r, kTdInfo + 0x70, 48);
  t.body.mrownerconfig = copy(r, kTdInfo + 0xA0, 48);
  for (std::size_t i = 0; i < 4; ++i) t.body.rtmr[i] = copy(r, kTdInfo + 0xD0 + 48 * i, 48);
  t.servtd_hash = copy(r, kTdInfo + 0x190, 48);
  must_be_zero(r, kTdInfo + 0x1C0, 64, "TDINFO's last 64 bytes");
  t.body.tee_type = kTdxTeeType;
  return t;
}

}  // namespace mkguest::evidence
