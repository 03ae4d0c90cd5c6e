// `explain` for a vTPM: the firmware event log (and the PCR values the guest
// quoted) against measurements.tpm (docs/pcr.md). Each predicted register
// (PCR 4, 9, 11, 12) is matched by value; when it differs, the log's events
// of that register are held against the predicted events
// (predict_uki_events, the function whose replay the build wrote) and the
// first difference is named. A replay of the log that is not the quoted
// value means the log does not match the PCRs.
#include <algorithm>
#include <optional>

#include "base/encoding.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/measure/uki_pcrs.h"
#include "builder/verify/explain.h"
#include "firmware/tpm_pcr.h"

namespace mkguest::attest {
namespace {

using evidence::TpmEvent;
using evidence::TpmEventLog;
constexpr std::uint32_t kEvNoAction = 0x3;

std::vector<const TpmEvent*> log_events(const TpmEventLog& log, unsigned pcr) {
  std::vector<const TpmEvent*> out;
  for (const auto& e : log.events)
    if (e.pcr == pcr && e.type != kEvNoAction) out.push_back(&e);
  return out;
}

struct EventDiff {
  std::size_t matching = 0;  // events equal before the first difference
  std::optional<std::string> message;
  json details = json::object();
};

// The first difference between the log's events of `pcr` and the prediction.
// Events are numbered from 1 within their PCR.
EventDiff compare_events(const std::vector<const TpmEvent*>& got,
                         const std::vector<tpm::PcrEvent>& predicted, unsigned pcr, HashAlg bank) {
  std::vector<const tpm::PcrEvent*> want;
  for (const auto& e : predicted)
    if (e.pcr == pcr) want.push_back(&e);
  EventDiff d;
  const std::string where = "PCR " + std::to_string(pcr) + ", event ";
  for (std::size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    const std::string at = where + std::to_string(i + 1);
    d.details = {{"pcr", pcr}, {"event", i + 1}};
    if (i >= got.size()) {
      d.message = at + ": the log lacks " + evidence::tcg_event_type_name(want[i]->type) + " (" +
                  want[i]->what + ", " + to_hex(want[i]->digest) + ")";
      d.details["kind"] = "missing";
      return d;
    }
    const Bytes& digest = got[i]->digests.at(bank);
    d.details["log_offset"] = got[i]->offset;
    if (i >= want.size()) {
      d.message = at + " (log offset " + hex_offset(got[i]->offset) +
                  "): the prediction lacks this " + evidence::tcg_event_type_name(got[i]->type) +
                  " (" + to_hex(digest) + "): an event this build's boot does not log";
      d.details["kind"] = "extra";
      return d;
    }
    if (digest != want[i]->digest) {
      d.message = at + " (log offset " + hex_offset(got[i]->offset) +
                  "): " + evidence::tcg_event_type_name(got[i]->type) +
                  " differs: " + want[i]->what + "; expected " + to_hex(want[i]->digest) +
                  ", log has " + to_hex(digest);
      d.details["kind"] = "differs";
      return d;
    }
    ++d.matching;
  }
  d.details = json::object();
  return d;
}

// The manifest's values of `pcr` in `bank`, by name (boot path or phase).
std::vector<std::pair<std::string, std::string>> predicted_values(const json& tpm, unsigned pcr,
                                                                  const std::string& bank) {
  std::vector<std::pair<std::string, std::string>> out;
  const json* v = find(tpm, {"pcr" + std::to_string(pcr), bank});
  if (!v) return out;
  if (v->is_string()) out.emplace_back("", v->get<std::string>());
  if (v->is_object())
    for (const auto& [k, x] : v->items())
      if (x.is_string()) out.emplace_back(k, x.get<std::string>());
  if (v->is_array())
    for (const auto& x : *v) out.emplace_back(find_string(x, {"phase"}), find_string(x, {"value"}));
  return out;
}

ExplainCheck check_pcr(const json& tpm, unsigned pcr, HashAlg bank, const Bytes& actual,
                       const std::vector<const TpmEvent*>& got,
                       const std::vector<std::vector<tpm::PcrEvent>>* predictions,
                       const std::string& uki_problem) {
  const std::string bank_name(hash_name(bank));
  ExplainCheck c{"pcr" + std::to_string(pcr),
                 ExplainStatus::kMismatch,
                 {},
                 to_hex(actual),
                 {},
                 json::object()};
  const auto values = predicted_values(tpm, pcr, bank_name);
  if (values.empty()) {
    c.status = ExplainStatus::kNotChecked;
    c.why.push_back("the manifest predicts no PCR " + std::to_string(pcr) + " in " + bank_name);
    return c;
  }
  for (const auto& [k, v] : values) c.expected += (c.expected.empty() ? "" : " or ") + v;
  for (const auto& [k, v] : values)
    if (v == c.actual) {
      c.status = ExplainStatus::kMatch;
      c.expected = v;
      c.why.push_back("PCR " + std::to_string(pcr) + " (" + bank_name + ") is the prediction" +
                      (k.empty()   ? ""
                       : pcr == 11 ? " after phase \"" + k + "\""
                                   : " (" + k + ")"));
      c.details["name"] = k;
      return c;
    }
  if (!predictions) {
    c.why.push_back("PCR " + std::to_string(pcr) + " differs; " + uki_problem);
    return c;
  }
  // The boot path whose events agree longest names the difference.
  EventDiff best;
  std::size_t best_path = 0;
  for (std::size_t i = 0; i < predictions->size(); ++i) {
    EventDiff d = compare_events(got, (*predictions)[i], pcr, bank);
    if (i == 0 || d.matching > best.matching || (!d.message && best.message)) {
      best = std::move(d);
      best_path = i;
    }
  }
  if (best.message) {
    c.why.push_back(*best.message);
    if (pcr == 4) best.details["path"] = best_path == 0 ? "qemu-kernel" : "disk";
    c.details["first_difference"] = best.details;
  } else if (pcr == 11) {
    c.why.push_back(
        "every PCR 11 event of the log is the prediction, but the value is none of the "
        "predicted phases: systemd-pcrphase extended other words (userspace, not in this log)");
  } else {
    c.why.push_back("every PCR " + std::to_string(pcr) +
                    " event of the log is the prediction, but the value is not: the log does "
                    "not match the PCRs");
  }
  return c;
}

// PCR 11's quoted value may carry systemd-pcrphase's words, which userspace
// extends and the firmware log does not hold: the replay plus a phase path.
std::optional<std::string> phase_reaching(HashAlg bank, Bytes reg, const Bytes& quoted) {
  if (reg == quoted) return std::string();
  // The words of the longest default phase path, one at a time.
  const std::string all = tpm::default_phases().back();
  std::string words;
  for (std::size_t start = 0; start < all.size();) {
    std::size_t end = all.find(':', start);
    if (end == std::string::npos) end = all.size();
    const std::string w = all.substr(start, end - start);
    start = end + 1;
    tpm::extend(reg, bank, as_bytes(w));
    words += (words.empty() ? "" : ":") + w;
    if (reg == quoted) return words;
  }
  return std::nullopt;
}

}  // namespace

ExplainResult explain_tpm_log(const VerifyContext& ctx, const TpmEventLog& log,
                              const evidence::PcrValues& quoted, const std::string& log_name,
                              const std::string& pcrs_name) {
  ExplainResult res{log_name, "tpm-log", {}};
  const json* tpm = find(ctx.manifest, {"measurements", "tpm"});
  if (!tpm) {
    ExplainCheck c{"pcr4", ExplainStatus::kMismatch, {}, {}, {}, json::object()};
    c.why.push_back(
        "the manifest has no vTPM predictions (measurements.tpm): the recipe "
        "builds no UKI");
    res.checks.push_back(std::move(c));
    return res;
  }
  // The bank: SHA-256 when the log has it, else the first it has.
  HashAlg bank = log.banks.front();
  if (std::find(log.banks.begin(), log.banks.end(), HashAlg::kSha256) != log.banks.end())
    bank = HashAlg::kSha256;
  const auto replayed = evidence::replay_tcg_log(log);
  // The log against the quoted values, in every bank both have.
  ExplainCheck consistency{"event_log", ExplainStatus::kNotChecked, {}, {}, {}, json::object()};
  if (quoted.empty()) {
    consistency.why.push_back(
        "no PCR values given (--pcrs FILE|DIR): the log's replay is compared with the "
        "prediction, and nothing says it is this TPM's");
  } else {
    consistency.status = ExplainStatus::kMatch;
    bool any = false;
    for (const auto& [alg, pcrs] : quoted) {
      const auto it = replayed.find(alg);
      if (it == replayed.end()) continue;
      for (const auto& [i, value] : pcrs) {
        any = true;
        const Bytes& reg = it->second[i];
        if (i == 11) {
          if (const auto words = phase_reaching(alg, reg, value)) {
            if (!words->empty())
              consistency.why.push_back("PCR 11 (" + std::string(hash_name(alg)) +
                                        ") is the log's replay plus systemd-pcrphase's \"" +
                                        *words + "\" (userspace extends, not in the firmware log)");
            continue;
          }
        }
        if (reg == value) continue;
        // PCR 10 (IMA) and 15-23 (systemd, debug, applications) are extended
        // after boot, into logs of their own: held against this log only
        // when it has events for them.
        if ((i == 10 || i >= 15) && log_events(log, i).empty()) {
          consistency.why.push_back("PCR " + std::to_string(i) + " (" +
                                    std::string(hash_name(alg)) +
                                    ") has no event in the firmware log: extended after boot "
                                    "(IMA, systemd), not compared");
          continue;
        }
        consistency.status = ExplainStatus::kMismatch;
        consistency.why.push_back("PCR " + std::to_string(i) + " (" + std::string(hash_name(alg)) +
                                  "): the log's replay is " + to_hex(reg) + ", " + pcrs_name +
                                  " has " + to_hex(value) + ": the log does not match the PCRs");
      }
    }
    if (!any) {
      consistency.status = ExplainStatus::kMismatch;
      consistency.why.push_back(pcrs_name + " has no PCR of a bank the log holds");
    } else if (consistency.status == ExplainStatus::kMatch) {
      consistency.why.insert(consistency.why.begin(),
                             "the replay of " + log_name + " is the PCR values of " + pcrs_name);
    }
  }
  // The predicted events, for both boot paths, from OUTDIR's UKI.
  std::string uki_problem;
  std::vector<std::vector<tpm::PcrEvent>> predictions;
  const std::string file = find_string(ctx.manifest, {"uki", "file"}, "uki.efi");
  const auto path = ctx.output_path(file);
  if (!std::filesystem::is_regular_file(path)) {
    uki_problem = "the UKI (" + file + ") is not in the output directory, so no event is named";
  } else {
    MappedFile m(path);
    for (const char* boot : {"qemu-kernel", "disk"})
      predictions.push_back(predict_uki_events(m.bytes(), file, bank, boot));
  }
  const auto qb = quoted.find(bank);
  for (const unsigned pcr : {4u, 9u, 11u, 12u}) {
    const Bytes* value = &replayed.at(bank)[pcr];
    if (qb != quoted.end())
      if (auto it = qb->second.find(pcr); it != qb->second.end()) value = &it->second;
    res.checks.push_back(check_pcr(*tpm, pcr, bank, *value, log_events(log, pcr),
                                   predictions.empty() ? nullptr : &predictions, uki_problem));
  }
  res.checks.push_back(std::move(consistency));
  ExplainCheck sig{"signature", ExplainStatus::kNotChecked, {}, {}, {}, json::object()};
  sig.why.push_back(
      "the PCR values are not a signed quote (TPM2_Quote is not read): compare values only");
  res.checks.push_back(std::move(sig));
  return res;
}

}  // namespace mkguest::attest
