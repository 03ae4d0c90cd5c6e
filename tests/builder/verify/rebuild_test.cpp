// `mkguest verify` and `verify --rebuild` on real builds of the bundled
// examples: a fresh build passes both; one changed byte in any artifact is
// named by both checks; the exports of a real manifest are well-formed.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace mkguest::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> example_recipes() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(source_dir() / "examples"))
    if (fs::exists(e.path() / "recipe.yaml"))
      out.push_back(fs::relative(e.path() / "recipe.yaml", source_dir()).string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("verify --rebuild passes for every example and names a changed byte",
          "[verify][examples]") {
  auto recipes = example_recipes();
  REQUIRE(!recipes.empty());
  for (const auto& recipe : recipes) {
    INFO(recipe);
    TempDir d;
    auto b = run_mkguest({"build", "-q", recipe, "-o", (d / "out").string()}, {}, source_dir());
    if (b.exit_code != 0 && b.err.find(".cache/debian") != std::string::npos) {
      test::skip_or_fail(std::string(recipe) + ": run scripts/fetch-debian-inputs first");
      continue;
    }
    REQUIRE(b.exit_code == 0);
    auto v = run_mkguest({"verify", (d / "out").string(), "--rebuild", recipe}, {}, source_dir());
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
    const json mj = json::parse(read_text(d / "out/manifest.json"));
    // The checks that apply, in verify's order (builder/verify/verify.cpp).
    std::string checks = "checks: outputs";
    if (mj.contains("measurements") && mj["measurements"].contains("se")) checks += ", se-header";
    if (mj.contains("verity")) checks += ", verity";
    for (const char* platform : {"snp", "tdx"})
      if (mj.contains("measurements") && mj["measurements"].contains(platform))
        checks += std::string(", ") + platform;
    if (mj.contains("uki")) checks += ", uki";
    CHECK(v.out.find(checks + ", rebuild") != std::string::npos);

    json m = json::parse(read_text(d / "out/manifest.json"));
    for (const auto& o : m["outputs"]) {
      std::string file = o["file"];
      std::uint64_t size = o["size"];
      if (size == 0) continue;
      TempDir u;
      fs::copy(d / "out", u / "out");
      {
        std::fstream f(u / "out" / file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(static_cast<std::streamoff>(size / 2));
        char c = 0;
        f.get(c);
        f.seekp(static_cast<std::streamoff>(size / 2));
        f.put(static_cast<char>(c ^ 0x80));
      }
      auto x = run_mkguest({"verify", (u / "out").string(), "--rebuild", recipe}, {}, source_dir());
      INFO(file << "\n" << x.out);
      CHECK(x.exit_code == 1);
      CHECK(x.out.find("DIFFERENT outputs: " + file + ": sha256 differs") != std::string::npos);
      CHECK(x.out.find("DIFFERENT rebuild: " + file + ": differs: first difference at") !=
            std::string::npos);
    }
  }
}

TEST_CASE("exports of a real build: provenance, SBOM, OCI, signature", "[provenance][examples]") {
  TempDir d;
  auto b = run_mkguest({"build", "-q", "examples/minimal/recipe.yaml", "-o", (d / "out").string()},
                       {}, source_dir());
  REQUIRE(b.exit_code == 0);
  json m = json::parse(read_text(d / "out/manifest.json"));
  auto p = run_mkguest(
      {"export", "provenance", (d / "out").string(), "-o", (d / "prov.intoto.json").string()});
  REQUIRE(p.exit_code == 0);
  json s = json::parse(read_text(d / "prov.intoto.json"));
  CHECK(s["subject"].size() == m["outputs"].size());
  CHECK(s["predicate"]["buildDefinition"]["resolvedDependencies"].size() == m["inputs"].size() + 1);
  auto sb = run_mkguest({"export", "sbom", (d / "out").string()});
  REQUIRE(sb.exit_code == 0);
  CHECK(json::parse(sb.out)["packages"].size() == m["inputs"].size() + 1);
  // The minimal example asks for no measurements: the Trustee export says so.
  auto t = run_mkguest({"export", "trustee", (d / "out").string()});
  CHECK(t.exit_code == 2);
  CHECK(t.err.find("no measurements") != std::string::npos);
  auto o =
      run_mkguest({"export", "oci", (d / "out").string(), "--oci-layout", (d / "oci").string()});
  CHECK(o.exit_code == 0);
  // Files added beside the outputs (a signature) do not break verify.
  REQUIRE(run({"openssl", "genpkey", "-algorithm", "ED25519", "-out", (d / "k.pem").string()})
              .exit_code == 0);
  fs::permissions(d / "k.pem", fs::perms(0600));
  REQUIRE(run_mkguest({"sign", (d / "out/manifest.json").string(), "--key", (d / "k.pem").string()})
              .exit_code == 0);
  CHECK(run_mkguest({"verify", (d / "out").string()}).exit_code == 0);
  auto r =
      run_mkguest({"verify", (d / "out").string(), "--rebuild", "examples/minimal/recipe.yaml"}, {},
                  source_dir());
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  // ... but a file the build did make and the manifest omits is a difference.
  json edited = m;
  edited["outputs"].erase(0);
  write_text(d / "out/manifest.json", edited.dump(2) + "\n");
  r = run_mkguest({"verify", (d / "out").string(), "--rebuild", "examples/minimal/recipe.yaml"}, {},
                  source_dir());
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("DIFFERENT rebuild: manifest.json: differs") != std::string::npos);
}

}  // namespace
}  // namespace mkguest::test

namespace mkguest::test {
namespace {

// A build with rootfs.verity: `verify` checks the tree the build wrote through
// libcryptsetup, in each file layout, and names the rootfs after a changed byte.
TEST_CASE("verify: the verity tree of a real build", "[verify][verity]") {
  for (std::string verity : {"{layout: separate}", "{layout: separate, superblock: true}",
                             "{layout: appended, hash: sha512, data_block_size: 1024}"}) {
    INFO(verity);
    TempDir t;
    fs::copy(source_dir() / "examples/minimal", t / "r", fs::copy_options::recursive);
    std::string image(256 * 1024, '\0');
    for (std::size_t i = 0; i < image.size(); ++i) image[i] = static_cast<char>((i * 7919) >> 5);
    write_text(t / "r/rootfs.raw", image);
    write_text(t / "r/recipe.yaml",
               read_text(t / "r/recipe.yaml") +
                   "rootfs:\n  format: raw\n  source: rootfs.raw\n  verity: " + verity + "\n");
    auto b =
        run_mkguest({"build", "-q", (t / "r/recipe.yaml").string(), "-o", (t / "out").string()});
    INFO(b.err);
    REQUIRE(b.exit_code == 0);
    auto v = run_mkguest({"verify", (t / "out").string()});
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("checks: outputs, verity") != std::string::npos);
    {
      std::fstream f(t / "out/rootfs.img", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(100 * 1024 + 3);
      f.put('X');
    }
    v = run_mkguest({"verify", (t / "out").string()});
    CHECK(v.exit_code == 1);
    CHECK(v.out.find("DIFFERENT verity: rootfs.img: does not verify") != std::string::npos);
  }
}

}  // namespace
}  // namespace mkguest::test

namespace mkguest::test {

TEST_CASE("verify --rebuild applies the first build's --set overrides", "[verify]") {
  const std::string recipe = "examples/minimal/recipe.yaml";
  TempDir d;
  auto b = run_mkguest({"build", "-q", recipe, "-o", (d / "out").string(), "--set",
                        "initrd.compression=zstd", "--set", "version=\"7\""},
                       {}, source_dir());
  REQUIRE(b.exit_code == 0);
  json m = json::parse(read_text(d / "out/manifest.json"));
  CHECK(m["recipe"]["overrides"] == json::array({"initrd.compression=zstd", "version=\"7\""}));
  // Without the overrides the build differs, so the rebuild really applies them.
  auto plain = run_mkguest({"build", "-q", recipe, "-o", (d / "plain").string()}, {}, source_dir());
  REQUIRE(plain.exit_code == 0);
  CHECK(sha256_file(d / "plain/initrd") != sha256_file(d / "out/initrd"));
  CHECK(json::parse(read_text(d / "plain/manifest.json"))["recipe"].count("overrides") == 0);
  auto v = run_mkguest({"verify", (d / "out").string(), "--rebuild", recipe}, {}, source_dir());
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
}

}  // namespace mkguest::test
