// The TPM firmware event log (PC Client rules over the shared TCG2 reader; see tcg_log.h).
#include "builder/formats/evidence/tcg_log.h"

#include <algorithm>
#include <cstring>

#include "base/byte_reader.h"
#include "base/encoding.h"
#include "base/error.h"
#include "firmware/tcg2_log.h"
#include "firmware/tdx_events.h"

namespace mkguest::evidence {
namespace {

// TCG_EfiStartupLocalityEvent: "StartupLocality\0" then the u8 locality.
constexpr char kStartupLocality[] = "StartupLocality";

}  // namespace

bool looks_like_tcg_log(std::span<const std::uint8_t> b) {
  static constexpr std::uint8_t kHead[8] = {0, 0, 0, 0, 3, 0, 0, 0};
  return b.size() >= 48 && std::memcmp(b.data(), kHead, 8) == 0 &&
         std::memcmp(b.data() + 32, "Spec ID Event03", 16) == 0;
}

TpmEventLog parse_tcg_log(std::span<const std::uint8_t> bytes, const std::string& source) {
  const tcg::Log raw = tcg::parse_log(bytes, source, {.all_algorithms = true});
  ByteReader r(bytes, source);
  TpmEventLog log;
  for (const auto& a : raw.algorithms) {
    HashAlg h;
    if (tcg::hash_alg_of(a.id, &h)) log.banks.push_back(h);
  }
  if (log.banks.empty())
    r.fail(32 + 28, "the Spec ID event declares none of SHA-1, SHA-256, SHA-384, SHA-512");
  bool seen_locality = false;
  for (const auto& x : raw.events) {
    TpmEvent e;
    e.offset = x.offset;
    e.pcr = x.index;
    e.type = x.type;
    e.data = x.data;
    if (e.pcr >= kTpmPcrCount)
      r.fail(x.offset, "PCR index " + std::to_string(e.pcr) + " is not 0..23");
    for (const auto& [id, d] : x.digests) {
      HashAlg h;
      if (tcg::hash_alg_of(id, &h)) e.digests[h] = d;
    }
    if (e.type == tcg::kEvNoAction && e.data.size() >= sizeof kStartupLocality &&
        std::memcmp(e.data.data(), kStartupLocality, sizeof kStartupLocality) == 0) {
      // Logged before any PCR 0 measurement, once, with the u8 locality (0..4).
      if (e.data.size() != sizeof kStartupLocality + 1)
        r.fail(x.offset, "StartupLocality event data is not 17 bytes");
      if (seen_locality) r.fail(x.offset, "a second StartupLocality event");
      const bool after_pcr0 = std::any_of(log.events.begin(), log.events.end(), [](auto& p) {
        return p.pcr == 0 && p.type != tcg::kEvNoAction;
      });
      if (after_pcr0) r.fail(x.offset, "StartupLocality event after a PCR 0 measurement");
      log.startup_locality = e.data.back();
      if (log.startup_locality != 0 && log.startup_locality != 3 && log.startup_locality != 4)
        r.fail(x.offset + 8,
               "startup locality " + std::to_string(log.startup_locality) + " is not 0, 3 or 4");
      seen_locality = true;
    }
    log.events.push_back(std::move(e));
  }
  return log;
}

std::map<HashAlg, std::array<Bytes, kTpmPcrCount>> replay_tcg_log(const TpmEventLog& log) {
  std::map<HashAlg, std::array<Bytes, kTpmPcrCount>> out;
  for (const HashAlg alg : log.banks) {
    auto& regs = out[alg];
    for (auto& reg : regs) reg.assign(hash_size(alg), 0);
    regs[0].back() = log.startup_locality;
    for (const auto& e : log.events) {
      if (e.type == tcg::kEvNoAction) continue;
      Hasher h(alg);
      h.update(regs[e.pcr]);
      h.update(e.digests.at(alg));
      regs[e.pcr] = h.finish();
    }
  }
  return out;
}

std::string tcg_event_type_name(std::uint32_t type) { return tdx::event_type_name(type); }

}  // namespace mkguest::evidence
