// `mkguest verify-eventlog --tdx CCEL_DATA (--expected JSON | --manifest M)`:
// replays a TD's CC event log and reports, event by event, where it differs
// from the prediction (see firmware/ccel.h, docs/tdx.md). Exit 1 on a difference.
#include <iostream>

#include "base/error.h"
#include "base/file.h"
#include "builder/cli/commands.h"
#include "builder/measure/tdx_json.h"
#include "firmware/ccel.h"

namespace mkguest::cli {
namespace {

struct VerifyEventlogArgs {
  std::string ccel, expected, manifest;
};

nlohmann::json load_json(const std::string& path) {
  try {
    return nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw file_error(path, std::string("not JSON: ") + e.what());
  }
}

void run(const VerifyEventlogArgs& a) {
  if (a.ccel.empty()) throw UsageError("verify-eventlog: --tdx is required");
  if (a.expected.empty() == a.manifest.empty())
    throw UsageError("verify-eventlog: give exactly one of --expected and --manifest");
  nlohmann::json doc;
  std::string source;
  if (!a.expected.empty()) {
    doc = load_json(a.expected);
    source = a.expected;
  } else {
    const auto m = load_json(a.manifest);
    const nlohmann::json* t = nullptr;
    if (m.contains("measurements") && m["measurements"].contains("tdx"))
      t = &m["measurements"]["tdx"];
    else if (m.contains("tdx"))
      t = &m["tdx"];
    if (!t) throw file_error(a.manifest, "manifest has no TDX measurements (measurements.tdx)");
    doc = *t;
    source = a.manifest;
  }
  const auto expected = tdx::events_from_json(doc, source);
  const auto log_bytes = read_file(a.ccel);
  const auto log = tdx::parse_ccel(log_bytes, a.ccel);
  const auto regs = tdx::replay_ccel(log, a.ccel);
  const auto want = tdx::replay(expected);
  for (int i = 0; i < 3; ++i)
    std::cout << "RTMR" << i << "  " << to_hex(regs[i])
              << (regs[i] == want[i] ? "  matches" : "  DIFFERS (expected " + to_hex(want[i]) + ")")
              << "\n";
  std::cout << "RTMR3  " << to_hex(regs[3])
            << "  (runtime extends are not in the log; not compared)\n";
  const auto diffs = tdx::compare_ccel(log, expected);
  for (const auto& d : diffs) {
    std::cout << a.ccel << ":" << hex_offset(d.log_offset) << ": RTMR" << d.rtmr << " event "
              << d.index_in_rtmr << ": " << d.message << "\n";
  }
  if (!diffs.empty()) {
    std::cout << diffs.size() << " difference(s)\n";
    set_exit_code(static_cast<int>(ExitCode::kMismatch));
  } else {
    std::cout << "event log matches the prediction (" << log.events.size() << " events)\n";
  }
}

}  // namespace

void register_verify_eventlog(CLI::App& app) {
  auto a = std::make_shared<VerifyEventlogArgs>();
  auto* cmd = app.add_subcommand(
      "verify-eventlog",
      "Replay a TD's CC event log (/sys/firmware/acpi/tables/data/CCEL; TCG2 crypto-agile, "
      "SHA-384) and report, event by event, where it differs from the prediction. Exit 1 on a "
      "difference.");
  cmd->add_option("--tdx", a->ccel, "CCEL log area (binary)");
  cmd->add_option("--expected", a->expected, "prediction: `mkguest measure tdx --json` output");
  cmd->add_option("--manifest", a->manifest,
                  "manifest whose measurements.tdx holds the prediction");
  cmd->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
