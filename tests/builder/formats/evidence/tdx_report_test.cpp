// The TDREPORT reader against reports built by an independent Python model
// of the TDX Module ABI's TDREPORT_STRUCT (tdx_report_model.py): every field
// at its offset, and every reserved byte refused at its offset.
#include <catch2/catch.hpp>
#include <string>

#include "base/encoding.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/formats/evidence/tdx_report.h"
#include "tests/test_util.h"

namespace mkguest {
namespace {

using evidence::parse_tdx_report;

Bytes model_report(const test::TempDir& dir, const std::string& fields) {
  test::write_text(dir / "fields.json", "{" + fields + "}");
  const auto r = test::run(
      {"/usr/bin/python3",
       (test::source_dir() / "tests/builder/formats/evidence/tdx_report_model.py").string(),
       (dir / "fields.json").string(), (dir / "report.bin").string()});
  REQUIRE(r.exit_code == 0);
  return read_file(dir / "report.bin");
}

std::string fill(std::size_t n, unsigned seed) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned>((i * 13 + seed) & 0xff));
    s += b;
  }
  return s;
}

std::string error_place(const Bytes& bytes) {
  try {
    parse_tdx_report(bytes, "r.bin");
  } catch (const InputError& e) {
    CHECK(e.source() == "r.bin");
    return e.place();
  }
  return "no error";
}

TEST_CASE("tdx report: every field of a TDREPORT the model built", "[evidence]") {
  test::TempDir dir;
  std::string f =
      "\"version\": 1, \"td_attributes\": \"0x10000001\", \"xfam\": \"0x642e7\", "
      "\"seam_attributes\": \"0x5\"";
  const char* names[] = {"cpusvn",        "tee_tcb_info_hash",
                         "tee_info_hash", "report_data",
                         "mac",           "tee_tcb_svn",
                         "mrseam",        "mrsignerseam",
                         "mrtd",          "mrconfigid",
                         "mrowner",       "mrownerconfig",
                         "rtmr0",         "rtmr1",
                         "rtmr2",         "rtmr3",
                         "servtd_hash"};
  const std::size_t sizes[] = {16, 48, 48, 64, 32, 16, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48, 48};
  for (std::size_t i = 0; i < 17; ++i)
    f +=
        ", \"" + std::string(names[i]) + "\": \"" + fill(sizes[i], static_cast<unsigned>(i)) + "\"";
  const auto t = parse_tdx_report(model_report(dir, f), "r.bin");
  CHECK(t.type == 0x81);
  CHECK(t.version == 1);
  CHECK(to_hex(t.cpusvn) == fill(16, 0));
  CHECK(to_hex(t.tee_tcb_info_hash) == fill(48, 1));
  CHECK(to_hex(t.tee_info_hash) == fill(48, 2));
  CHECK(to_hex(t.body.report_data) == fill(64, 3));
  CHECK(to_hex(t.mac) == fill(32, 4));
  CHECK(to_hex(t.body.tee_tcb_svn) == fill(16, 5));
  CHECK(to_hex(t.body.mrseam) == fill(48, 6));
  CHECK(to_hex(t.body.mrsignerseam) == fill(48, 7));
  CHECK(to_hex(t.body.mrtd) == fill(48, 8));
  CHECK(to_hex(t.body.mrconfigid) == fill(48, 9));
  CHECK(to_hex(t.body.mrowner) == fill(48, 10));
  CHECK(to_hex(t.body.mrownerconfig) == fill(48, 11));
  for (std::size_t i = 0; i < 4; ++i) CHECK(to_hex(t.body.rtmr[i]) == fill(48, 12 + unsigned(i)));
  CHECK(to_hex(t.servtd_hash) == fill(48, 16));
  CHECK(t.body.td_attributes == 0x10000001ull);
  CHECK(t.body.xfam == 0x642e7ull);
  CHECK(t.body.seam_attributes == 5);
}

TEST_CASE("tdx report: reserved bytes, size, type and version are refused at their offset",
          "[evidence]") {
  test::TempDir dir;
  auto with = [&](const std::string& fields) { return error_place(model_report(dir, fields)); };
  CHECK(with("") == "no error");
  CHECK(with("\"type\": 0") == "0x0");
  CHECK(with("\"subtype\": 1") == "0x1");
  CHECK(with("\"version\": 2") == "0x2");
  CHECK(with("\"poke\": [[3, 1]]") == "0x3");
  CHECK(with("\"poke\": [[15, 1]]") == "0xf");
  CHECK(with("\"poke\": [[192, 1]]") == "0xc0");
  CHECK(with("\"poke\": [[223, 1]]") == "0xdf");
  CHECK(with("\"poke\": [[495, 1]]") == "0x1ef");
  CHECK(with("\"poke\": [[511, 1]]") == "0x1ff");
  CHECK(with("\"poke\": [[960, 1]]") == "0x3c0");
  CHECK(with("\"poke\": [[1023, 1]]") == "0x3ff");
  const Bytes good = model_report(dir, "");
  CHECK(error_place(Bytes(good.begin(), good.end() - 1)) == "0x3ff");
  Bytes longer = good;
  longer.push_back(0);
  CHECK(error_place(longer) == "0x400");
}

}  // namespace
}  // namespace mkguest
