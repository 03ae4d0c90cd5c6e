// SBOM: the dpkg status parser agrees with dpkg-query on this machine's real
// database, and the SPDX 2.3 document follows the spec's JSON schema rules
// (checked field by field here: no SPDX validator is packaged in Debian 12).
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "base/error.h"
#include "base/file.h"
#include "builder/fstree/dpkg_status.h"
#include "tests/attest_fixture.h"
#include "tests/test_util.h"

namespace mkguest::test {
namespace {

using nlohmann::json;

std::vector<attest::DpkgPackage> parse(const std::string& text) {
  return attest::parse_dpkg_status(as_bytes(text), "status");
}

TEST_CASE("dpkg status: paragraphs, continuations, states", "[sbom]") {
  auto p = parse(
      "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\n"
      "Description: GNU C Library\n multi-line\n .\n more\nMaintainer: GNU Libc <libc@x.org>\n\n"
      "Package: old\nStatus: deinstall ok config-files\nVersion: 1\n\n\n"
      "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nSource: bash "
      "(5.2.15-2)\n");
  REQUIRE(p.size() == 3);
  CHECK(p[0].name == "libc6");
  CHECK(p[0].version == "2.36-9+deb12u4");
  CHECK(p[0].architecture == "amd64");
  CHECK(p[0].maintainer == "GNU Libc <libc@x.org>");
  CHECK(p[0].installed());
  CHECK(!p[1].installed());
  CHECK(p[2].source == "bash (5.2.15-2)");
}

TEST_CASE("dpkg status: errors name the line", "[sbom]") {
  auto err = [](const std::string& text) {
    try {
      parse(text);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(err("Package: a\nVersion 1\n").find("status:2: error: expected 'Field: value'") !=
        std::string::npos);
  CHECK(err(" continued\n").find("status:1: error: continuation line") != std::string::npos);
  CHECK(err("Version: 1\n").find("status:1: error: paragraph without a Package") !=
        std::string::npos);
  CHECK(err("Package: a\nStatus: install ok installed\n").find("has no Version") !=
        std::string::npos);
  CHECK(err("Package: a\nPackage: b\n").find("status:2: error: field 'Package' repeated") !=
        std::string::npos);
}

TEST_CASE("dpkg status: agrees with dpkg-query on this machine", "[sbom]") {
  if (!have_tool("dpkg-query") || !std::filesystem::exists("/var/lib/dpkg/status")) {
    test::skip_or_fail("no dpkg database on this machine (CI runs on Debian 12)");
    return;
  }
  MappedFile f("/var/lib/dpkg/status");
  auto pkgs = attest::parse_dpkg_status(f.bytes(), "/var/lib/dpkg/status");
  std::set<std::string> ours;
  for (const auto& p : pkgs)
    if (p.installed()) ours.insert(p.name + ":" + p.architecture + "=" + p.version);
  auto r = run(
      {"dpkg-query", "-W", "-f", "${db:Status-Status} ${Package}:${Architecture}=${Version}\n"});
  REQUIRE(r.exit_code == 0);
  std::set<std::string> theirs;
  std::istringstream ss(r.out);
  for (std::string line; std::getline(ss, line);)
    if (line.rfind("installed ", 0) == 0) theirs.insert(line.substr(10));
  CHECK(ours.size() > 10);
  CHECK(ours == theirs);
}

TEST_CASE("sbom: SPDX 2.3 document of inputs and dpkg packages", "[sbom]") {
  TempDir t;
  json m = make_outdir(t / "out");
  write_text(t / "rootfs/var/lib/dpkg/status",
             "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\n"
             "Version: 1:2.36-9+deb12u4\nMaintainer: GNU Libc Maintainers "
             "<debian-glibc@lists.debian.org>\n"
             "Homepage: https://www.gnu.org/software/libc/libc.html\n\n"
             "Package: removed\nStatus: deinstall ok config-files\nVersion: 1\n");
  auto r = run_mkguest({"export", "sbom", (t / "out").string(), "--rootfs", (t / "rootfs").string(),
                        "-o", (t / "sbom.spdx.json").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  json d = json::parse(read_text(t / "sbom.spdx.json"));
  // Document-level required fields (SPDX 2.3 §6).
  CHECK(d["spdxVersion"] == "SPDX-2.3");
  CHECK(d["dataLicense"] == "CC0-1.0");
  CHECK(d["SPDXID"] == "SPDXRef-DOCUMENT");
  CHECK(d["name"] == "coco-base-1.4.0");
  CHECK(std::regex_match(d["documentNamespace"].get<std::string>(),
                         std::regex("https://[^#]+" + sha256_file(t / "out/manifest.json"))));
  CHECK(d["creationInfo"]["created"] == "2023-11-14T22:13:20Z");
  CHECK(d["creationInfo"]["creators"][0] == "Tool: mkguest-0.1.0");
  // Packages: required fields, unique well-formed ids.
  std::regex id_re("SPDXRef-[A-Za-z0-9.-]+");
  std::set<std::string> ids;
  std::map<std::string, json> by_name;
  for (const auto& p : d["packages"]) {
    INFO(p.dump());
    CHECK(std::regex_match(p["SPDXID"].get<std::string>(), id_re));
    CHECK(ids.insert(p["SPDXID"]).second);
    CHECK(p["name"].is_string());
    CHECK(p["downloadLocation"] == "NOASSERTION");
    CHECK(p["filesAnalyzed"] == false);
    if (p.contains("checksums"))
      for (const auto& c : p["checksums"]) {
        CHECK((c["algorithm"] == "SHA256" || c["algorithm"] == "SHA384"));
        CHECK(std::regex_match(c["checksumValue"].get<std::string>(),
                               std::regex("[0-9a-f]{64}|[0-9a-f]{96}")));
      }
    by_name[p["name"]] = p;
  }
  // Image + 4 inputs + 1 installed package (the deinstalled one is left out).
  CHECK(d["packages"].size() == 6);
  CHECK(by_name.count("removed") == 0);
  CHECK(by_name["inputs/vmlinuz"]["checksums"][0]["checksumValue"] == m["inputs"][0]["sha256"]);
  CHECK(by_name["inputs/OVMF.fd"]["primaryPackagePurpose"] == "FIRMWARE");
  const json& libc = by_name["libc6"];
  CHECK(libc["versionInfo"] == "1:2.36-9+deb12u4");
  CHECK(libc["supplier"] == "Organization: GNU Libc Maintainers (debian-glibc@lists.debian.org)");
  CHECK(libc["externalRefs"][0]["referenceType"] == "purl");
  CHECK(libc["externalRefs"][0]["referenceLocator"] ==
        "pkg:deb/debian/libc6@1%3A2.36-9%2Bdeb12u4?arch=amd64");
  // Relationships reference existing ids; the document DESCRIBES the image.
  for (const auto& rel : d["relationships"]) {
    CHECK((rel["spdxElementId"] == "SPDXRef-DOCUMENT" || ids.count(rel["spdxElementId"])));
    CHECK(ids.count(rel["relatedSpdxElement"]));
  }
  CHECK(d["relationships"][0]["relationshipType"] == "DESCRIBES");
  CHECK(d["relationships"].size() == 6);
}

}  // namespace
}  // namespace mkguest::test
