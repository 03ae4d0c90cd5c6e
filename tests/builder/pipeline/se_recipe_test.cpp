// outputs.se in a recipe: the SE image of the recipe's kernel, expanded
// cmdline and built initrd equals `mkguest se build` over the same files with
// the same test seed; measurements.se equals its --json; inspect opens it
// with the host key; verify re-derives it and names a changed byte; verify
// --rebuild passes with and without a test seed; host-key documents are
// verified through the recipe's `verify` chain; recipe errors name the place.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

void write_inputs(const fs::path& d) {
  Bytes k(0x10440, 0x5a);
  std::copy_n("S390EP", 6, k.begin() + 0x10008);
  std::fill_n(k.begin() + 0x10430, 8, 0);  // COMMAND_LINE_SIZE: the legacy 896
  write_file(d / "image", k);
  write_file(d / "stage3a.bin", std::string(9912, 'a'));
  write_file(d / "stage3b.bin", std::string(5860, 'b'));
  test::write_text(d / "init", "#!/bin/sh\n");
  const fs::path v = test::source_dir() / "tests/vectors/se";
  for (const char* f : {"host.crt", "host2.crt", "host.key"}) fs::copy_file(v / f, d / f);
}

std::string recipe(const std::string& se_extra) {
  return "name: se-demo\nversion: \"2\"\narch: s390x\nsource_date_epoch: 1700000000\n"
         "kernel: image\ncmdline: [console=ttysclp0, \"img=${name}\"]\n"
         "initrd:\n  files: [{src: init, dst: /init}]\n"
         "outputs:\n  se:\n    stage3a: stage3a.bin\n    stage3b: stage3b.bin\n"
         "    host_keys: [host.crt, host2.crt]\n" +
         se_extra;
}

}  // namespace

TEST_CASE("outputs.se builds the image mkguest se build writes, with its values", "[se]") {
  test::TempDir d;
  write_inputs(d.path());
  test::write_text(d / "recipe.yaml", recipe("    no_verify: true\n    test_seed: s1\n"));
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  CHECK_THAT(b.err, Catch::Contains("Your workload is not secured"));
  CHECK_THAT(b.err, Catch::Contains("UNSAFE FOR PRODUCTION"));
  const auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  const auto& se = m["measurements"]["se"];
  CHECK(se["reproducible"] == true);
  CHECK(se["host_keys_verified"] == false);
  CHECK(se["components"].size() == 4);
  CHECK(se["components"][1]["size"] == test::read_text(d / "out/cmdline").size() + 1);
  CHECK(se["loaders"]["stage3b"]["sha256"] == test::sha256_file(d / "stage3b.bin"));
  auto cli = test::run_mkguest(
      {"se", "build",       "-i",        "image",       "-r",          "out/initrd",
       "-p", "out/cmdline", "--stage3a", "stage3a.bin", "--stage3b",   "stage3b.bin",
       "-k", "host.crt",    "-k",        "host2.crt",   "--no-verify", "--x-test-seed",
       "s1", "-o",          "cli.img",   "--hdr-out",   "cli.hdr",     "--json"},
      {}, d.path());
  REQUIRE(cli.exit_code == 0);
  CHECK(test::sha256_file(d / "cli.img") == test::sha256_file(d / "out/se.img"));
  CHECK(test::sha256_file(d / "cli.hdr") == test::sha256_file(d / "out/hdr.bin"));
  const auto j = nlohmann::json::parse(cli.out);
  for (const char* k : {"pld", "ald", "tld", "tag", "boot_hdr_tags", "image_phkh", "nep", "pcf"}) {
    INFO(k);
    CHECK(se[k] == j[k]);
  }
  bool inputs_recorded = false;
  for (const auto& in : m["inputs"]) inputs_recorded |= in["role"] == "se-stage3b";
  CHECK(inputs_recorded);

  auto insp = test::run_mkguest({"inspect", "out/se.img", "--host-key", "host.key", "--json"}, {},
                                d.path());
  INFO(insp.err);
  REQUIRE(insp.exit_code == 0);
  const auto ij = nlohmann::json::parse(insp.out);
  CHECK(ij["tag_verifies"] == true);
  CHECK(ij["tag_hex"] == se["tag"]);
  for (const auto& [k, v] : ij["recomputed_match"].items()) CHECK(v == true);
  CHECK(ij["stage3b_args"]["cmdline"]["size"] == se["components"][1]["size"]);

  auto ok = test::run_mkguest({"verify", "out", "--rebuild", "recipe.yaml"}, {}, d.path());
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  fs::copy(d / "out", d / "bad", fs::copy_options::recursive);
  Bytes img = read_file(d / "bad/se.img");
  img[0x15000 + 7] ^= 1;
  write_file(d / "bad/se.img", img);
  auto bad = test::run_mkguest({"verify", "bad"}, {}, d.path());
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.out, Catch::Contains("se.img: pld recomputed from the image differs"));
}

TEST_CASE("outputs.se keys: a readable key file draws a warning, no key is ever written out",
          "[se]") {
  test::TempDir d;
  write_inputs(d.path());
  write_file(d / "cck", Bytes(32, 0xc5));
  write_file(d / "hk", Bytes(32, 0xd6));
  fs::permissions(d / "cck",
                  fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(d / "hk", fs::perms::owner_read);
  test::write_text(d / "recipe.yaml", recipe("    no_verify: true\n    comm_key: cck\n"
                                             "    header_key: hk\n    pcf: \"0x200000e0\"\n"));
  auto b = test::run_mkguest({"build", "recipe.yaml", "-o", "out", "--json"}, {}, d.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  CHECK_THAT(b.err, Catch::Contains("key file cck is accessible by group or others"));
  CHECK(b.err.find("key file hk") == std::string::npos);
  const std::string hk_hex = to_hex(Bytes(32, 0xd6));
  for (const std::string& text : {b.out, b.err, test::read_text(d / "out/manifest.json")}) {
    CHECK(text.find("c5c5c5c5c5c5c5c5") == std::string::npos);
    CHECK(text.find(hk_hex) == std::string::npos);
  }
  const auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  CHECK(m["measurements"]["se"]["pcf"] == "0x200000e0");
  // The header key opens the image: it is the one given.
  auto insp = test::run_mkguest({"inspect", "out/se.img", "--hdr-key", "hk"}, {}, d.path());
  CHECK(insp.exit_code == 0);
  CHECK_THAT(insp.out, Catch::Contains("header tag verifies"));
  CHECK(insp.out.find("c5c5c5c5") == std::string::npos);
}

TEST_CASE("outputs.se without a test seed is random, and --rebuild still checks it", "[se]") {
  test::TempDir d;
  write_inputs(d.path());
  test::write_text(d / "recipe.yaml", recipe("    no_verify: true\n"));
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "a"}, {}, d.path()).exit_code ==
          0);
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "b"}, {}, d.path()).exit_code ==
          0);
  CHECK(test::sha256_file(d / "a/se.img") != test::sha256_file(d / "b/se.img"));
  const auto ma = nlohmann::json::parse(test::read_text(d / "a/manifest.json"));
  const auto mb = nlohmann::json::parse(test::read_text(d / "b/manifest.json"));
  CHECK(ma["measurements"]["se"]["reproducible"] == false);
  CHECK(ma["measurements"]["se"]["ald"] == mb["measurements"]["se"]["ald"]);
  CHECK(ma["measurements"]["se"]["tag"] != mb["measurements"]["se"]["tag"]);
  auto r = test::run_mkguest({"verify", "a", "--rebuild", "recipe.yaml"}, {}, d.path());
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("randomised by design"));
  // A changed input is still caught: the kernel's plaintext digest differs.
  Bytes k = read_file(d / "image");
  k[0x20000 % k.size()] ^= 1;
  write_file(d / "image", k);
  r = test::run_mkguest({"verify", "a", "--rebuild", "recipe.yaml"}, {}, d.path());
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("manifest.json: differs"));
}

TEST_CASE("outputs.se verifies host keys through its chain, and errors name the place", "[se]") {
  test::TempDir d;
  write_inputs(d.path());
  auto pki = test::run(
      {"bash", (test::source_dir() / "tests/data/se-pki.sh").string(), (d / "pki").string()});
  REQUIRE(pki.exit_code == 0);
  const std::string chain =
      "    verify:\n      certs: [pki/ibm.crt, pki/inter_ca.crt]\n"
      "      crls: [pki/ibm.crl, pki/inter_ca.crl, pki/root_ca.crl]\n"
      "      root_ca: pki/root_ca.crt\n";
  auto with_keys = [&](const std::string& keys) {
    std::string r = recipe(chain);
    const std::string from = "host_keys: [host.crt, host2.crt]";
    r.replace(r.find(from), from.size(), "host_keys: [" + keys + "]");
    test::write_text(d / "recipe.yaml", r);
    return test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  };
  auto r = with_keys("pki/host.crt, pki/host2.crt");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  const auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  CHECK(m["measurements"]["se"]["host_keys_verified"] == true);
  CHECK(m["measurements"]["se"]["host_keys"][0]["subject"] == "/C=US/O=IBM Z Host/CN=host");
  r = with_keys("pki/revoked.crt");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("pki/revoked.crt: error: the host-key document is revoked"));

  struct Bad {
    std::string extra, error;
  };
  const std::vector<Bad> bad = {
      {"", "recipe.yaml:11:5: error: 'se' needs 'verify: {certs: [...], crls: [...]}'"},
      {"    no_verify: true\n    pcf: e0\n",
       "recipe.yaml:15:10: error: 'pcf' must be a hexadecimal string such as \"0xe0\""},
      {"    no_verify: true\n    pcf: \"0x200000e0\"\n",
       "error: a pcf that allows dumping (0x20000000) needs 'comm_key'"},
      {"    no_verify: true\n    file: ../se.img\n",
       "recipe.yaml:15:11: error: 'file' is a plain file name in the output directory"},
      {"    no_verify: true\n    layout: pvimg2\n",
       "recipe.yaml:15:13: error: 'layout' must be one of genprotimg, pvimg"},
      {chain + "    no_verify: true\n", "'no_verify: true' and 'verify' exclude each other"},
  };
  for (const auto& b : bad) {
    INFO(b.error);
    test::write_text(d / "recipe.yaml", recipe(b.extra));
    auto e = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out2"}, {}, d.path());
    CHECK(e.exit_code == 2);
    CHECK_THAT(e.err, Catch::Contains(b.error));
    CHECK_FALSE(fs::exists(d / "out2"));
  }
}
