// `explain` for a TDX quote: MRTD against the manifest's two page-add orders,
// RTMR 0-2 against the prediction (and, with the guest's CCEL log, the first
// differing event of each register, tdx::compare_ccel), MRCONFIGID against the
// init-data binding.
#include <algorithm>

#include "base/encoding.h"
#include "base/error.h"
#include "builder/measure/tdx_json.h"
#include "builder/verify/explain.h"
#include "firmware/ccel.h"

namespace mkguest::attest {
namespace {

ExplainCheck check_mrtd(const json& tdx, const evidence::TdxQuote& q) {
  ExplainCheck c{"mr_td", ExplainStatus::kMismatch, {}, to_hex(q.mrtd), {}, json::object()};
  const std::string single = find_string(tdx, {"mr_td", "single-pass"});
  const std::string two = find_string(tdx, {"mr_td", "two-pass"});
  c.expected = single + " (single-pass) or " + two + " (two-pass)";
  if (c.actual == single || c.actual == two) {
    c.status = ExplainStatus::kMatch;
    c.expected = c.actual;
    c.why.push_back(std::string("MRTD matches the ") +
                    (c.actual == single ? "single-pass" : "two-pass") +
                    " page-add order (docs/tdx.md)");
    c.details["page_order"] = c.actual == single ? "single-pass" : "two-pass";
    return c;
  }
  c.why.push_back(
      "MRTD matches neither page-add order: the TD ran another TDVF firmware build "
      "than the one the manifest names");
  return c;
}

ExplainCheck check_rtmr(const json& tdx, const evidence::TdxQuote& q, int reg,
                        const tdx::CcelLog* log, const std::vector<tdx::Difference>& diffs) {
  const std::string name = "rtmr_" + std::to_string(reg);
  ExplainCheck c{name, ExplainStatus::kMatch, {}, to_hex(q.rtmr[reg]), {}, json::object()};
  const json* want = find(tdx, {name});
  if (!want || !want->is_string()) {
    c.status = ExplainStatus::kNotChecked;
    c.why.push_back("the manifest predicts no complete " + name +
                    " (a boot stage the profile does not model)");
    return c;
  }
  c.expected = want->get<std::string>();
  if (c.expected == c.actual) {
    c.why.push_back("RTMR" + std::to_string(reg) + " is the predicted value");
    return c;
  }
  c.status = ExplainStatus::kMismatch;
  if (!log) {
    c.why.push_back("RTMR" + std::to_string(reg) +
                    " differs; give the guest's event log (--ccel FILE) to name the event");
    return c;
  }
  bool named = false;
  for (const auto& d : diffs)
    if (d.rtmr == reg) {
      c.why.push_back("RTMR" + std::to_string(reg) + ", event " + std::to_string(d.index_in_rtmr) +
                      (d.log_offset ? " (log offset " + hex_offset(d.log_offset) + ")" : "") +
                      ": " + d.message);
      c.details["first_difference"] = {{"index", d.index_in_rtmr}, {"message", d.message}};
      named = true;
      break;
    }
  if (!named)
    c.why.push_back("every event of RTMR" + std::to_string(reg) +
                    " is the predicted one, but the register is not: the log is not this quote's");
  return c;
}

ExplainCheck check_mrconfigid(const json& tdx, const evidence::TdxQuote& q) {
  ExplainCheck c{"mrconfigid", ExplainStatus::kMatch, {}, to_hex(q.mrconfigid), {}, json::object()};
  const bool zero =
      std::all_of(q.mrconfigid.begin(), q.mrconfigid.end(), [](auto b) { return !b; });
  c.expected = find_string(tdx, {"mrconfigid"});
  if (c.expected.empty()) {
    if (!zero) {
      c.status = ExplainStatus::kMismatch;
      c.why.push_back("the build binds no init-data, but the TD was launched with MRCONFIGID set");
    } else {
      c.why.push_back("the build binds no init-data and MRCONFIGID is zero");
    }
    return c;
  }
  if (c.expected == c.actual) {
    c.why.push_back("MRCONFIGID is the init-data binding of this build");
    return c;
  }
  c.status = ExplainStatus::kMismatch;
  c.why.push_back(zero ? "the TD was launched without mrconfigid=: the init-data binding of this "
                         "build was not passed to QEMU"
                       : "MRCONFIGID is not this build's init-data binding: the TD was launched "
                         "with another init-data document");
  return c;
}

}  // namespace

ExplainResult explain_tdx_quote(const VerifyContext& ctx, const evidence::TdxQuote& quote,
                                const std::string& evidence_name, const Bytes& ccel,
                                const std::string& ccel_name, const std::string& kind) {
  ExplainResult res{evidence_name, kind, {}};
  const json* tdx = find(ctx.manifest, {"measurements", "tdx"});
  if (!tdx) {
    ExplainCheck c{"mr_td", ExplainStatus::kMismatch, {}, to_hex(quote.mrtd), {}, json::object()};
    c.why.push_back("the manifest has no TDX measurements: the recipe measured no TDX launch");
    res.checks.push_back(std::move(c));
    return res;
  }
  std::optional<tdx::CcelLog> log;
  std::vector<tdx::Difference> diffs;
  ExplainCheck replay{"event_log", ExplainStatus::kNotChecked, {}, {}, {}, json::object()};
  if (!ccel.empty()) {
    log = tdx::parse_ccel(ccel, ccel_name);
    diffs = tdx::compare_ccel(*log, tdx::events_from_json(*tdx, ctx.manifest_source));
    const auto regs = tdx::replay_ccel(*log, ccel_name);
    replay.status = ExplainStatus::kMatch;
    for (int r = 0; r < 4; ++r)
      if (regs[r] != quote.rtmr[r]) {
        replay.status = ExplainStatus::kMismatch;
        replay.why.push_back("the log's replay of RTMR" + std::to_string(r) + " is " +
                             to_hex(regs[r]) + ", not the quote's: the log is not this TD's");
      }
    if (replay.status == ExplainStatus::kMatch)
      replay.why.push_back("the replay of " + ccel_name + " is the quote's RTMR 0-3");
  } else {
    replay.why.push_back("no event log given (--ccel FILE)");
  }
  res.checks.push_back(check_mrtd(*tdx, quote));
  for (int r = 0; r < 3; ++r)
    res.checks.push_back(check_rtmr(*tdx, quote, r, log ? &*log : nullptr, diffs));
  res.checks.push_back(check_mrconfigid(*tdx, quote));
  res.checks.push_back(std::move(replay));
  ExplainCheck sig{"signature", ExplainStatus::kNotChecked, {}, {}, {}, json::object()};
  sig.why.push_back(kind == "tdx-report"
                        ? "the TDREPORT's MAC was not checked (only the TDX module can): "
                          "compare values only"
                        : "the quote's signature was not checked (PCK chain verification is "
                          "not implemented): compare values only");
  res.checks.push_back(std::move(sig));
  return res;
}

}  // namespace mkguest::attest
