// `explain` for TDX quotes, on Trustee's real v4 quote and CCEL log
// (tests/vectors/tdx_quote/README.md). The manifest is made from the quote's
// values and the log's events, then one value is changed per case, so each
// case checks that explain names that value.
#include <catch2/catch.hpp>
#include <string>

#include "base/encoding.h"
#include "base/file.h"
#include "builder/formats/evidence/tdx_quote.h"
#include "builder/verify/explain.h"
#include "firmware/ccel.h"
#include "tests/test_util.h"

namespace mkguest {
namespace {

namespace fs = std::filesystem;
using attest::ExplainStatus;

fs::path vectors() { return test::source_dir() / "tests/vectors/tdx_quote"; }

struct Td {
  Bytes quote_bytes = read_file(vectors() / "quote-v4.dat");
  Bytes ccel = read_file(vectors() / "ccel.bin");
  evidence::TdxQuote quote = evidence::parse_tdx_quote(quote_bytes, "quote.dat");
  attest::json manifest;
  Td() {
    // Trustee's log is not this quote's TD's (its replay differs from the
    // quote's RTMR 0 and 1: the last test case): the quote's RTMRs are set to
    // the log's replay, as a quote of the TD that wrote the log would hold.
    const auto regs = tdx::replay_ccel(tdx::parse_ccel(ccel, "ccel.bin"), "ccel.bin");
    for (std::size_t i = 0; i < 4; ++i) quote.rtmr[i] = regs[i];
    attest::json events = attest::json::array();
    for (const auto& e : tdx::parse_ccel(ccel, "ccel.bin").events)
      if (e.type != 3 && e.mr_index >= 1 && e.mr_index <= 3)  // not EV_NO_ACTION; RTMR 0-2
        events.push_back({{"rtmr", e.mr_index - 1},
                          {"type_code", e.type},
                          {"digest", to_hex(e.sha384)},
                          {"description", "event"}});
    manifest = {
        {"manifest_version", 1},
        {"measurements",
         {{"tdx",
           {{"mr_td", {{"single-pass", std::string(96, 'a')}, {"two-pass", to_hex(quote.mrtd)}}},
            {"rtmr_0", to_hex(quote.rtmr[0])},
            {"rtmr_1", to_hex(quote.rtmr[1])},
            {"rtmr_2", to_hex(quote.rtmr[2])},
            {"events", events}}}}}};
  }
  attest::json& tdx() { return manifest["measurements"]["tdx"]; }
  attest::ExplainResult explain(bool with_log = true) const {
    const attest::VerifyContext ctx{".", manifest, "manifest.json"};
    return attest::explain_tdx_quote(ctx, quote, "quote.dat", with_log ? ccel : Bytes{},
                                     "ccel.bin");
  }
};

const attest::ExplainCheck& check(const attest::ExplainResult& r, const std::string& name) {
  for (const auto& c : r.checks)
    if (c.name == name) return c;
  FAIL("no check " << name);
  return r.checks.front();
}

std::string why(const attest::ExplainCheck& c) {
  std::string s;
  for (const auto& w : c.why) s += w + "\n";
  return s;
}

TEST_CASE("explain tdx: a quote against its own values matches", "[explain]") {
  Td td;
  const auto r = td.explain();
  CHECK(r.matches());
  CHECK_THAT(why(check(r, "mr_td")), Catch::Contains("two-pass page-add order"));
  CHECK(check(r, "event_log").status == ExplainStatus::kMatch);
  CHECK(check(r, "signature").status == ExplainStatus::kNotChecked);
}

TEST_CASE("explain tdx: a TDREPORT's fields, named as such", "[explain]") {
  Td td;
  const attest::VerifyContext ctx{".", td.manifest, "manifest.json"};
  const auto r =
      attest::explain_tdx_quote(ctx, td.quote, "tdreport.bin", td.ccel, "ccel.bin", "tdx-report");
  CHECK(r.kind == "tdx-report");
  CHECK(r.matches());
  CHECK_THAT(why(check(r, "signature")), Catch::Contains("MAC was not checked"));
}

TEST_CASE("explain tdx: MRTD of neither page-add order", "[explain]") {
  Td td;
  td.tdx()["mr_td"]["two-pass"] = std::string(96, 'b');
  const auto r = td.explain();
  CHECK(!r.matches());
  CHECK_THAT(why(check(r, "mr_td")), Catch::Contains("matches neither page-add order"));
}

TEST_CASE("explain tdx: names the first differing event of an RTMR", "[explain]") {
  Td td;
  auto& events = td.tdx()["events"];
  std::size_t first_rtmr1 = 0;
  while (events[first_rtmr1]["rtmr"] != 1) ++first_rtmr1;
  events[first_rtmr1 + 1]["digest"] = std::string(96, 'c');
  events[first_rtmr1 + 1]["description"] = "the kernel";
  td.tdx()["rtmr_1"] = std::string(96, 'd');
  const auto r = td.explain();
  const auto& c = check(r, "rtmr_1");
  CHECK(c.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(c), Catch::Contains("RTMR1, event 1"));
  CHECK_THAT(why(c), Catch::Contains("the kernel"));
  CHECK(check(r, "rtmr_0").status == ExplainStatus::kMatch);
  // Without the log the event cannot be named.
  CHECK_THAT(why(check(td.explain(false), "rtmr_1")), Catch::Contains("--ccel FILE"));
}

TEST_CASE("explain tdx: MRCONFIGID, and a log that is not the quote's TD's", "[explain]") {
  Td td;
  td.tdx()["mrconfigid"] = std::string(96, 'e');
  auto r = td.explain();
  CHECK_THAT(why(check(r, "mrconfigid")), Catch::Contains("without mrconfigid="));
  // Trustee's real quote, unchanged, with Trustee's log: not the same TD's.
  Td real;
  real.quote = evidence::parse_tdx_quote(real.quote_bytes, "quote.dat");
  for (int i = 0; i < 3; ++i) real.tdx()["rtmr_" + std::to_string(i)] = to_hex(real.quote.rtmr[i]);
  r = real.explain();
  CHECK(check(r, "rtmr_0").status == ExplainStatus::kMatch);
  const auto& log = check(r, "event_log");
  CHECK(log.status == ExplainStatus::kMismatch);
  CHECK_THAT(why(log), Catch::Contains("replay of RTMR0"));
  CHECK_THAT(why(log), Catch::Contains("replay of RTMR1"));
  CHECK_THAT(why(log), !Catch::Contains("replay of RTMR2"));
}

}  // namespace
}  // namespace mkguest
