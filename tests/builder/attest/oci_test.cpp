// OCI layout: the artifact written by `mkguest export oci` is read and copied
// by skopeo (Debian's containers/image tool, which checks every blob digest
// while copying) and follows the image-spec's rules for artifacts.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "tests/attest_fixture.h"
#include "tests/test_util.h"

namespace mkguest::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json blob(const fs::path& layout, const std::string& digest) {
  return json::parse(read_text(layout / "blobs/sha256" / digest.substr(7)));
}

TEST_CASE("oci: layout structure per the image-spec", "[oci]") {
  TempDir t;
  json m = make_outdir(t / "out");
  auto r =
      run_mkguest({"export", "oci", (t / "out").string(), "--oci-layout", (t / "layout").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  fs::path L = t / "layout";
  CHECK(json::parse(read_text(L / "oci-layout")) == json{{"imageLayoutVersion", "1.0.0"}});
  json index = json::parse(read_text(L / "index.json"));
  CHECK(index["schemaVersion"] == 2);
  REQUIRE(index["manifests"].size() == 1);
  const json& desc = index["manifests"][0];
  CHECK(desc["annotations"]["org.opencontainers.image.ref.name"] == "1.4.0");
  CHECK(r.out == desc["digest"].get<std::string>() + "\n");
  // Every blob is named by its digest and has the size its descriptor says.
  for (const auto& e : fs::directory_iterator(L / "blobs/sha256")) {
    CHECK(sha256_file(e.path()) == e.path().filename().string());
  }
  json man = blob(L, desc["digest"]);
  CHECK(sha256_file(L / "blobs/sha256" / desc["digest"].get<std::string>().substr(7)) ==
        desc["digest"].get<std::string>().substr(7));
  CHECK(man["schemaVersion"] == 2);
  CHECK(man["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  CHECK(man["artifactType"] == "application/vnd.mkguest.guest-image.v1");
  CHECK(man["config"]["mediaType"] == "application/vnd.oci.empty.v1+json");
  CHECK(man["config"]["digest"] ==
        "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  CHECK(man["config"]["size"] == 2);
  CHECK(man["annotations"]["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z");
  // One layer per file (outputs + manifest.json), each with a media type and title.
  REQUIRE(man["layers"].size() == m["outputs"].size() + 1);
  std::regex media("[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*");
  std::set<std::string> titles;
  for (const auto& l : man["layers"]) {
    std::string title = l["annotations"]["org.opencontainers.image.title"];
    titles.insert(title);
    CHECK(std::regex_match(l["mediaType"].get<std::string>(), media));
    CHECK(l["size"] == fs::file_size(t / "out" / title));
    CHECK(l["digest"] == "sha256:" + sha256_file(t / "out" / title));
  }
  CHECK(titles.count("manifest.json"));
  CHECK(titles.count("se.img"));
  for (const auto& l : man["layers"]) {
    if (l["annotations"]["org.opencontainers.image.title"] == "initrd")
      CHECK(l["mediaType"] == "application/vnd.mkguest.initrd.v1");
    if (l["annotations"]["org.opencontainers.image.title"] == "manifest.json")
      CHECK(l["mediaType"] == "application/vnd.mkguest.manifest.v1+json");
  }
  // The same input gives the same layout bytes.
  auto again = run_mkguest(
      {"export", "oci", (t / "out").string(), "--oci-layout", (t / "layout2").string()});
  CHECK(again.out == r.out);
  CHECK(read_text(t / "layout2/index.json") == read_text(L / "index.json"));
}

TEST_CASE("oci: skopeo reads and copies the artifact", "[oci]") {
  if (!have_tool("skopeo")) {
    test::skip_or_fail("skopeo is not installed (scripts/install-deps --test installs it)");
    return;
  }
  TempDir t;
  make_outdir(t / "out");
  REQUIRE(run_mkguest({"export", "oci", (t / "out").string(), "--oci-layout",
                       (t / "layout").string(), "--tag", "v1"})
              .exit_code == 0);
  json index = json::parse(read_text(t / "layout/index.json"));
  auto raw = run({"skopeo", "inspect", "--raw", "oci:" + (t / "layout").string() + ":v1"});
  INFO(raw.err);
  REQUIRE(raw.exit_code == 0);
  CHECK(raw.out == read_text(t / "layout/blobs/sha256" /
                             index["manifests"][0]["digest"].get<std::string>().substr(7)));
  // A copy to a dir: transport, verifying every blob digest on the way.
  auto cp = run(
      {"skopeo", "copy", "oci:" + (t / "layout").string() + ":v1", "dir:" + (t / "copy").string()});
  INFO(cp.err);
  REQUIRE(cp.exit_code == 0);
  for (const char* f : {"initrd", "vmlinuz", "se.img", "manifest.json"})
    CHECK(fs::exists(t / "copy" / sha256_file(t / "out" / f)));
  // A corrupted blob is refused by skopeo.
  std::string victim = sha256_file(t / "out/initrd");
  write_text(t / "layout/blobs/sha256" / victim, "corrupted");
  auto bad = run({"skopeo", "copy", "oci:" + (t / "layout").string() + ":v1",
                  "dir:" + (t / "copy2").string()});
  CHECK(bad.exit_code != 0);
}

TEST_CASE("oci: a second tag is added beside the first", "[oci]") {
  TempDir t;
  make_outdir(t / "out");
  REQUIRE(run_mkguest({"export", "oci", (t / "out").string(), "--oci-layout", (t / "l").string(),
                       "--tag", "a"})
              .exit_code == 0);
  write_text(t / "out/extra.txt", "note");
  REQUIRE(run_mkguest({"export", "oci", (t / "out").string(), "--oci-layout", (t / "l").string(),
                       "--tag", "b"})
              .exit_code == 0);
  json index = json::parse(read_text(t / "l/index.json"));
  REQUIRE(index["manifests"].size() == 2);
  CHECK(index["manifests"][0]["digest"] != index["manifests"][1]["digest"]);
}

}  // namespace
}  // namespace mkguest::test
