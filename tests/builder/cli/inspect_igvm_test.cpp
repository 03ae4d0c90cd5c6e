// `mkguest inspect FILE.igvm`: the platforms, every directive and the page
// ranges of a file written by the independent writer.
#include <catch2/catch.hpp>

#include <map>
#include <nlohmann/json.hpp>

#include "tests/builder/formats/igvm/igvm_shapes.h"

using namespace mkguest;
using nlohmann::json;

TEST_CASE("inspect lists an IGVM file's platforms, directives and page ranges", "[igvm][cli]") {
  const std::string multi = (test::igvm_shapes().path / "multi.igvm").string();
  auto r = test::run_mkguest({"inspect", multi, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);
  CHECK(j["format"] == "IGVM");
  REQUIRE(j["platforms"].size() == 3);
  CHECK(j["platforms"][0]["platform"] == "sev-snp");
  CHECK(j["platforms"][1]["platform"] == "tdx");
  CHECK(j["platforms"][2]["platform"] == "native");
  CHECK(j["directives"].size() == 17);
  std::map<std::string, int> types;
  for (const auto& h : j["directives"]) ++types[h["type"].get<std::string>()];
  CHECK(types["IGVM_VHT_PAGE_DATA"] == 8);
  CHECK(types["IGVM_VHT_VP_CONTEXT"] == 3);
  CHECK(types["IGVM_VHT_PARAMETER_INSERT"] == 1);
  CHECK(types["IGVM_VHT_ERROR_RANGE"] == 1);
  const json& pr = j["page_ranges"];
  REQUIRE(pr.size() >= 4);
  CHECK(pr[0]["gpa"] == "0x100000");
  CHECK(pr[0]["pages"] == 2);
  CHECK(pr[0]["page"] == "normal,data");
  CHECK(pr[1]["page"] == "normal,zero");
  CHECK(pr[2]["page"] == "normal,unmeasured");
  CHECK(pr[2]["pages"] == 2);
  r = test::run_mkguest({"inspect", multi});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("IGVM revision 1 (x64)") != std::string::npos);
  CHECK(r.out.find("platform tdx: mask 0x2") != std::string::npos);
  CHECK(r.out.find("IGVM_VHT_VP_CONTEXT") != std::string::npos);
  CHECK(r.out.find("gpa 0x100000 +0x2000 (2 pages) mask 0x3: normal,data") != std::string::npos);
}
