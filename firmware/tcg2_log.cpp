// The TCG2 crypto-agile event-log reader (see tcg2_log.h).
#include "firmware/tcg2_log.h"

#include "base/byte_reader.h"
#include "base/error.h"

namespace mkguest::tcg {
namespace {

constexpr std::uint32_t kMaxEventSize = 16u << 20;
constexpr std::uint32_t kMaxDigests = 16;
constexpr std::uint16_t kAlgSm3 = 0x0012;

bool all_filler(const ByteReader& r, std::size_t pos) {
  for (std::size_t i = pos; i < r.size(); ++i)
    if (r.u8(i) != 0xFF && r.u8(i) != 0x00) return false;
  return true;
}

// The digest size of a known algorithm, 0 for an unknown one.
std::uint16_t known_size(std::uint16_t id) {
  if (id == kAlgSm3) return 32;
  HashAlg a;
  return hash_alg_of(id, &a) ? static_cast<std::uint16_t>(hash_size(a)) : 0;
}

}  // namespace

const Bytes* Record::digest(std::uint16_t id) const {
  for (const auto& [alg, d] : digests)
    if (alg == id) return &d;
  return nullptr;
}

std::uint16_t tpm_alg_id(HashAlg alg) { return hash_info(alg).tpm_id; }

bool hash_alg_of(std::uint16_t id, HashAlg* out) {
  for (HashAlg a : {HashAlg::kSha1, HashAlg::kSha256, HashAlg::kSha384, HashAlg::kSha512})
    if (hash_info(a).tpm_id == id) {
      *out = a;
      return true;
    }
  return false;
}

Log parse_log(std::span<const std::uint8_t> bytes, const std::string& source,
              const ParseRules& rules) {
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
  Log log;
  for (std::uint32_t i = 0; i < nalg; ++i) {
    const std::size_t o = 32 + 28 + 4ull * i;
    const std::uint16_t alg = r.le16(o), sz = r.le16(o + 2);
    if (sz == 0 || sz > 64) r.fail(o + 2, "digest size " + std::to_string(sz) + " is invalid");
    if (const std::uint16_t k = known_size(alg); k && k != sz)
      r.fail(o + 2, "digest size " + std::to_string(sz) + " of algorithm " + hex_offset(alg) +
                        " is not its size " + std::to_string(k));
    for (const auto& a : log.algorithms)
      if (a.id == alg) r.fail(o, "algorithm " + hex_offset(alg) + " declared twice");
    log.algorithms.push_back({alg, sz});
  }
  const std::size_t vendor_off = 32 + 28 + 4ull * nalg;
  if (vendor_off + 1 + r.u8(vendor_off) > 32 + hsize)
    r.fail(vendor_off, "Spec ID vendor info runs past the header event");
  std::size_t pos = 32 + hsize;
  while (pos < r.size()) {
    if (rules.filler_tail &&
        (r.size() - pos < 4 || r.le32(pos) == 0xFFFFFFFFu || all_filler(r, pos))) {
      if (!all_filler(r, pos)) r.fail(pos, "data after the end-of-log marker");
      break;
    }
    Record e;
    e.offset = r.absolute(pos);
    ByteCursor c(r, pos);
    e.index = c.le32();
    e.type = c.le32();
    const std::size_t count_off = c.pos();
    const std::uint32_t count = c.le32();
    if (count > kMaxDigests || (rules.all_algorithms && count != log.algorithms.size()))
      r.fail(count_off, "event digest count " + std::to_string(count) + " is invalid" +
                            (rules.all_algorithms ? " (the Spec ID event declares " +
                                                        std::to_string(log.algorithms.size()) + ")"
                                                  : std::string()));
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::size_t alg_off = c.pos();
      const std::uint16_t alg = c.le16();
      const Algorithm* a = nullptr;
      for (const auto& x : log.algorithms)
        if (x.id == alg) a = &x;
      if (!a)
        r.fail(alg_off,
               "digest algorithm " + hex_offset(alg) + " not declared in the Spec ID event");
      if (e.digest(alg)) r.fail(alg_off, "two digests of algorithm " + hex_offset(alg));
      auto d = c.bytes(a->size);
      e.digests.emplace_back(alg, Bytes(d.begin(), d.end()));
    }
    const std::size_t size_off = c.pos();
    const std::uint32_t size = c.le32();
    if (size > kMaxEventSize)
      r.fail(size_off, "event data size " + std::to_string(size) + " is too large");
    auto d = c.bytes(size);
    e.data.assign(d.begin(), d.end());
    log.events.push_back(std::move(e));
    pos = c.pos();
  }
  return log;
}

}  // namespace mkguest::tcg
