// CCEL (TCG2 crypto-agile, SHA-384) parsing, writing, replay and comparison (see ccel.h).
#include "firmware/ccel.h"

#include "base/byte_reader.h"
#include "base/byte_writer.h"
#include "base/error.h"
#include "firmware/tcg2_log.h"

namespace mkguest::tdx {
namespace {

constexpr std::uint16_t kAlgSha384 = 0x000C;

}  // namespace

CcelLog parse_ccel(std::span<const std::uint8_t> bytes, const std::string& source) {
  // The shared TCG2 reader; the CCEL's own rules on top: SHA-384 declared,
  // measured events carry it, MR indices 1..4, a filled log-area tail.
  const tcg::Log raw = tcg::parse_log(bytes, source, {.filler_tail = true});
  ByteReader r(bytes, source);
  bool sha384 = false;
  for (const auto& a : raw.algorithms) sha384 = sha384 || (a.id == kAlgSha384 && a.size == 48);
  if (!sha384) r.fail(32 + 28, "Spec ID event does not declare SHA-384 (0x000c, 48 bytes)");
  CcelLog log;
  for (const auto& x : raw.events) {
    LogEvent e;
    e.offset = x.offset;
    e.mr_index = x.index;
    e.type = x.type;
    if (const Bytes* d = x.digest(kAlgSha384)) e.sha384 = *d;
    e.data = x.data;
    if (e.type != kEvNoAction) {
      if (e.sha384.empty()) r.fail(x.offset + 8, "measured event has no SHA-384 digest");
      if (e.mr_index < 1 || e.mr_index > 4)
        r.fail(x.offset, "MR index " + std::to_string(e.mr_index) + " is not an RTMR (1..4)");
    }
    log.events.push_back(std::move(e));
  }
  return log;
}

std::array<Bytes, 4> replay_ccel(const CcelLog& log, const std::string&) {
  std::vector<Event> evs;
  for (const auto& e : log.events) {
    if (e.type == kEvNoAction) continue;
    Event x;
    x.rtmr = static_cast<int>(e.mr_index) - 1;
    x.type = e.type;
    x.digest = e.sha384;
    evs.push_back(std::move(x));
  }
  return replay(evs);
}

Bytes write_ccel(const std::vector<Event>& events) {
  ByteWriter w;
  // Header event: TCG_PCR_EVENT with TCG_EfiSpecIDEvent (SHA-384 only).
  ByteWriter spec;
  spec.fixed_string("Spec ID Event03", 16);
  spec.le32(0);  // platform class
  spec.u8(0);    // spec version minor
  spec.u8(2);    // major
  spec.u8(0);    // errata
  spec.u8(2);    // uintn size (64-bit)
  spec.le32(1);
  spec.le16(kAlgSha384);
  spec.le16(48);
  spec.u8(0);  // vendor info size
  w.le32(0);
  w.le32(kEvNoAction);
  w.zeros(20);
  w.le32(static_cast<std::uint32_t>(spec.size()));
  w.append(spec.bytes());
  for (const auto& e : events) {
    w.le32(static_cast<std::uint32_t>(e.rtmr + 1));
    w.le32(e.type);
    w.le32(1);
    w.le16(kAlgSha384);
    w.append(e.digest);
    const Bytes data = e.data.empty() ? Bytes(e.description.begin(), e.description.end()) : e.data;
    w.le32(static_cast<std::uint32_t>(data.size()));
    w.append(data);
  }
  return w.take();
}

std::vector<Difference> compare_ccel(const CcelLog& log, const std::vector<Event>& expected) {
  std::vector<Difference> out;
  for (int reg = 0; reg < 3; ++reg) {
    std::vector<const LogEvent*> got;
    std::vector<const Event*> want;
    for (const auto& e : log.events)
      if (e.type != kEvNoAction && static_cast<int>(e.mr_index) - 1 == reg) got.push_back(&e);
    for (const auto& e : expected)
      if (e.type != kEvNoAction && e.rtmr == reg) want.push_back(&e);
    const std::size_t n = std::max(got.size(), want.size());
    for (std::size_t i = 0; i < n; ++i) {
      Difference d;
      d.rtmr = reg;
      d.index_in_rtmr = i;
      if (i < got.size()) d.log_offset = got[i]->offset;
      if (i >= got.size()) {
        d.message = "missing from the log: expected " + event_type_name(want[i]->type) + " " +
                    want[i]->description + " " + to_hex(want[i]->digest);
      } else if (i >= want.size()) {
        d.message = "unexpected " + event_type_name(got[i]->type) + " " + to_hex(got[i]->sha384);
      } else if (got[i]->sha384 != want[i]->digest || got[i]->type != want[i]->type) {
        d.message = "expected " + event_type_name(want[i]->type) + " " + want[i]->description +
                    " " + to_hex(want[i]->digest) + ", log has " + event_type_name(got[i]->type) +
                    " " + to_hex(got[i]->sha384);
      } else {
        continue;
      }
      out.push_back(std::move(d));
    }
  }
  return out;
}

}  // namespace mkguest::tdx
