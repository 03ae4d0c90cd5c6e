// CCEL (TCG2 crypto-agile, SHA-384) parsing, writing, replay and comparison (see ccel.h).
#include "firmware/ccel.h"

#include <map>

#include "base/byte_reader.h"
#include "base/byte_writer.h"
#include "base/error.h"

namespace mkguest::tdx {
namespace {

constexpr std::uint16_t kAlgSha384 = 0x000C;
constexpr std::uint32_t kMaxEventSize = 16u << 20;
constexpr std::uint32_t kMaxDigests = 16;

bool all_filler(const ByteReader& r, std::size_t pos) {
  for (std::size_t i = pos; i < r.size(); ++i)
    if (r.u8(i) != 0xFF && r.u8(i) != 0x00) return false;
  return true;
}

}  // namespace

CcelLog parse_ccel(std::span<const std::uint8_t> bytes, const std::string& source) {
  ByteReader r(bytes, source);
  // Header: TCG_PCR_EVENT (SHA-1 format) carrying TCG_EfiSpecIDEvent.
  if (r.size() < 32) r.fail(0, "event log shorter than its header event");
  if (r.le32(4) != kEvNoAction) r.fail(4, "first event is not EV_NO_ACTION (no Spec ID header)");
  const std::uint32_t hsize = r.le32(28);
  r.need(32, hsize, "Spec ID event");
  if (hsize < 29 || r.cstring(32, 16) != "Spec ID Event03")
    r.fail(32, "header event is not a TCG2 crypto-agile \"Spec ID Event03\"");
  const std::uint32_t nalg = r.le32(32 + 24);
  if (nalg == 0 || nalg > kMaxDigests)
    r.fail(32 + 24, "Spec ID lists " + std::to_string(nalg) + " algorithms");
  if (hsize < 28 + 4ull * nalg + 1) r.fail(28, "Spec ID event too short for its algorithm list");
  std::map<std::uint16_t, std::uint16_t> sizes;
  for (std::uint32_t i = 0; i < nalg; ++i) {
    const std::size_t o = 32 + 28 + 4ull * i;
    const std::uint16_t alg = r.le16(o), sz = r.le16(o + 2);
    if (sz == 0 || sz > 64) r.fail(o + 2, "digest size " + std::to_string(sz) + " is invalid");
    sizes[alg] = sz;
  }
  if (!sizes.count(kAlgSha384) || sizes[kAlgSha384] != 48)
    r.fail(32 + 28, "Spec ID event does not declare SHA-384 (0x000c, 48 bytes)");
  CcelLog log;
  std::size_t pos = 32 + hsize;
  while (pos < r.size()) {
    if (r.size() - pos < 4 || r.le32(pos) == 0xFFFFFFFFu || all_filler(r, pos)) {
      if (!all_filler(r, pos)) r.fail(pos, "data after the end-of-log marker");
      break;
    }
    LogEvent e;
    e.offset = pos;
    ByteCursor c(r, pos);
    e.mr_index = c.le32();
    e.type = c.le32();
    const std::size_t count_off = c.pos();
    const std::uint32_t count = c.le32();
    if (count > kMaxDigests)
      r.fail(count_off, "event digest count " + std::to_string(count) + " is invalid");
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::size_t alg_off = c.pos();
      const std::uint16_t alg = c.le16();
      auto it = sizes.find(alg);
      if (it == sizes.end())
        r.fail(alg_off,
               "digest algorithm " + hex_offset(alg) + " not declared in the Spec ID event");
      auto d = c.bytes(it->second);
      if (alg == kAlgSha384) {
        if (!e.sha384.empty()) r.fail(alg_off, "two SHA-384 digests in one event");
        e.sha384.assign(d.begin(), d.end());
      }
    }
    const std::size_t size_off = c.pos();
    const std::uint32_t size = c.le32();
    if (size > kMaxEventSize)
      r.fail(size_off, "event data size " + std::to_string(size) + " is too large");
    auto d = c.bytes(size);
    e.data.assign(d.begin(), d.end());
    if (e.type != kEvNoAction) {
      if (e.sha384.empty()) r.fail(count_off, "measured event has no SHA-384 digest");
      if (e.mr_index < 1 || e.mr_index > 4)
        r.fail(pos, "MR index " + std::to_string(e.mr_index) + " is not an RTMR (1..4)");
    }
    log.events.push_back(std::move(e));
    pos = c.pos();
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
