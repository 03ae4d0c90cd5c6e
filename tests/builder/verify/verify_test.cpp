// `mkguest verify`: passes on an output directory that matches its manifest,
// and names the artifact after any one byte of any artifact is changed.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "builder/verify/verify.h"
#include "tests/attest_fixture.h"
#include "tests/test_util.h"

namespace mkguest::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

void flip_byte(const fs::path& p, std::uint64_t off) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(off));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(off));
  f.put(static_cast<char>(c ^ 0x01));
}

TEST_CASE("verify: a matching directory passes", "[verify]") {
  TempDir t;
  make_outdir(t / "out");
  auto r = run_mkguest({"verify", (t / "out").string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("OK") != std::string::npos);
  CHECK(r.out.find("outputs") != std::string::npos);
  CHECK(r.out.find("se-header") != std::string::npos);
}

TEST_CASE("verify: one changed byte in any artifact is named", "[verify]") {
  TempDir t;
  json m = make_outdir(t / "out");
  for (const auto& o : m["outputs"]) {
    std::string name = o["file"];
    std::uint64_t size = o["size"];
    for (std::uint64_t off : {std::uint64_t{0}, size / 2, size - 1}) {
      INFO(name << " @" << off);
      TempDir u;
      fs::copy(t / "out", u / "out");
      flip_byte(u / "out" / name, off);
      auto r = run_mkguest({"verify", (u / "out").string()});
      CHECK(r.exit_code == 1);
      CHECK(r.out.find("DIFFERENT outputs: " + name + ": sha256 differs") != std::string::npos);
      CHECK(r.out.find("FAILED") != std::string::npos);
    }
  }
}

TEST_CASE("verify: missing, truncated and escaping files", "[verify]") {
  TempDir t;
  json m = make_outdir(t / "out");
  SECTION("missing") {
    fs::remove(t / "out/initrd");
    auto r = run_mkguest({"verify", (t / "out").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("initrd: missing") != std::string::npos);
  }
  SECTION("truncated") {
    fs::resize_file(t / "out/vmlinuz", 100);
    auto r = run_mkguest({"verify", (t / "out").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("vmlinuz: size differs: manifest 40000, file 100") != std::string::npos);
  }
  SECTION("a name that escapes the directory") {
    m["outputs"][0]["file"] = "../etc/passwd";
    write_text(t / "out/manifest.json", m.dump(2));
    auto r = run_mkguest({"verify", (t / "out").string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("escapes OUTDIR") != std::string::npos);
  }
}

TEST_CASE("verify: the SE header tag and host key hashes are checked", "[verify][se]") {
  TempDir t;
  json m = make_outdir(t / "out");
  SECTION("manifest tag differs from the image's") {
    m["measurements"]["se"]["tag"] = hex_of(0x55, 16);
    write_text(t / "out/manifest.json", m.dump(2));
    auto r = run_mkguest({"verify", (t / "out").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("DIFFERENT se-header: se.img: se.tag differs") != std::string::npos);
  }
  SECTION("manifest host keys differ") {
    m["measurements"]["se"]["image_phkh"][0] = hex_of(0x56, 32);
    write_text(t / "out/manifest.json", m.dump(2));
    auto r = run_mkguest({"verify", (t / "out").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("image_phkh") != std::string::npos);
  }
  SECTION("no SE section: the check does not apply") {
    m["measurements"].erase("se");
    write_text(t / "out/manifest.json", m.dump(2));
    auto r = run_mkguest({"verify", (t / "out").string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("se-header") == std::string::npos);
  }
}

TEST_CASE("verify: the check list is open to other modules", "[verify]") {
  TempDir t;
  json m = make_outdir(t / "out");
  auto checks = attest::default_verify_checks();
  REQUIRE(checks.size() >= 2);
  checks.push_back(
      {"extra", "a module's own check",
       [](const attest::VerifyContext& c, std::vector<attest::Finding>* f) {
         f->push_back({"", "rootfs.erofs", "root hash differs in " + c.outdir.filename().string()});
         return true;
       }});
  attest::VerifyContext ctx{t / "out", m, "manifest.json"};
  auto r = attest::run_verify(ctx, checks);
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].check == "extra");
  CHECK(r.findings[0].subject == "rootfs.erofs");
  CHECK(r.ran.back() == "extra");
}

TEST_CASE("verify: compare_trees names missing, extra and different files", "[verify]") {
  TempDir t;
  make_outdir(t / "a");
  fs::copy(t / "a", t / "b");
  CHECK(attest::compare_trees(t / "a", t / "b").empty());
  flip_byte(t / "b/initrd", 4097);
  fs::remove(t / "b/vmlinuz");
  write_text(t / "b/extra", "x");
  auto f = attest::compare_trees(t / "a", t / "b");
  REQUIRE(f.size() == 3);
  CHECK(f[0].subject == "extra");
  CHECK(f[0].message == "only in the rebuild");
  CHECK(f[1].subject == "initrd");
  CHECK(f[1].message == "differs: first difference at 0x1001");
  CHECK(f[2].subject == "vmlinuz");
  CHECK(f[2].message == "missing from the rebuild");
}

}  // namespace
}  // namespace mkguest::test

namespace mkguest::test {
namespace {

// The verity check against trees made by veritysetup (cryptsetup-bin), the
// independent implementation: with a superblock in a separate hash file, and
// without one (parameters from the manifest).
TEST_CASE("verify: dm-verity volumes are checked through libcryptsetup", "[verify][verity]") {
  if (!have_tool("veritysetup")) {
    test::skip_or_fail(
        "veritysetup is not installed (scripts/install-deps --test installs cryptsetup-bin)");
    return;
  }
  TempDir t;
  json m = make_outdir(t / "out");
  Bytes data = pseudo_bytes(64 * 4096, 21);
  write_text(t / "out/rootfs.img", std::string(data.begin(), data.end()));
  auto fmt = run({"veritysetup", "format", (t / "out/rootfs.img").string(),
                  (t / "out/rootfs.verity").string(), "--salt", std::string(64, 'a'), "--uuid",
                  "11111111-2222-3333-4444-555555555555"});
  REQUIRE(fmt.exit_code == 0);
  auto root_at = fmt.out.find("Root hash:");
  REQUIRE(root_at != std::string::npos);
  std::string root = fmt.out.substr(root_at + 10);
  root = root.substr(root.find_first_not_of(" \t"), 64);
  auto fmt2 = run({"veritysetup", "format", "--no-superblock", "--salt", std::string(64, 'b'),
                   (t / "out/rootfs.img").string(), (t / "out/rootfs.nosb").string()});
  REQUIRE(fmt2.exit_code == 0);
  std::string root2 = fmt2.out.substr(fmt2.out.find("Root hash:") + 10);
  root2 = root2.substr(root2.find_first_not_of(" \t"), 64);
  m["verity"] = {
      {"root", {{"data_file", "rootfs.img"}, {"hash_file", "rootfs.verity"}, {"root_hash", root}}},
      {"nosb",
       {{"data_file", "rootfs.img"},
        {"hash_file", "rootfs.nosb"},
        {"root_hash", root2},
        {"superblock", false},
        {"salt", std::string(64, 'b')},
        {"data_blocks", 64},
        {"hash_algorithm", "sha256"}}}};
  write_text(t / "out/manifest.json", m.dump(2));
  auto ok = run_mkguest({"verify", (t / "out").string()});
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("verity") != std::string::npos);

  SECTION("a changed data byte") {
    flip_byte(t / "out/rootfs.img", 5 * 4096 + 7);
    auto r = run_mkguest({"verify", (t / "out").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("DIFFERENT verity: rootfs.img: does not verify") != std::string::npos);
    CHECK(r.out.find("data block 5") != std::string::npos);
  }
  SECTION("a changed root hash") {
    m["verity"]["root"]["root_hash"] = std::string(64, '0');
    write_text(t / "out/manifest.json", m.dump(2));
    auto r = run_mkguest({"verify", (t / "out").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("DIFFERENT verity: rootfs.img") != std::string::npos);
  }
  SECTION("manifest fields libcryptsetup rejects are a finding naming the fields") {
    for (const auto& [field, value] :
         std::vector<std::pair<std::string, json>>{{"hash_type", 7},
                                                   {"data_block_size", 4097},
                                                   {"hash_block_size", 16},
                                                   {"data_blocks", 0},
                                                   {"hash_offset", 100}}) {
      json mm = m;
      mm["verity"]["nosb"][field] = value;
      write_text(t / "out/manifest.json", mm.dump(2));
      auto r = run_mkguest({"verify", (t / "out").string()});
      INFO(field << " " << value.dump() << "\n" << r.out << r.err);
      CHECK(r.exit_code == 1);
      CHECK(r.out.find("DIFFERENT verity: rootfs.img: the manifest's verity fields") !=
            std::string::npos);
      CHECK((r.out + r.err).find("error") == std::string::npos);
    }
  }
}

}  // namespace
}  // namespace mkguest::test
