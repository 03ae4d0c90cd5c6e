// measurements.snp.id_block: an SEV-SNP ID block and ID auth for each launch
// digest, checked by an independent Python model of the ABI layouts that
// verifies every signature with `cryptography` (snp_id_block_check.py), by
// `measure snp-id-block` on the same inputs, by a rebuild (byte-identical:
// RFC 6979 nonces) and by `verify`, which refuses a changed byte.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/snp_fixtures.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

const char* kFamily = "00112233445566778899aabbccddeeff";
const char* kImage = "ffeeddccbbaa99887766554433221100";

void write_recipe(const test::TempDir& d, const std::string& id_block) {
  test::write_snp_fixtures(d.path());
  test::write_text(d / "init", "#!/bin/sh\n");
  const fs::path keys = test::source_dir() / "tests/vectors/snp_id_block";
  fs::copy_file(keys / "id.pem", d / "id.pem", fs::copy_options::overwrite_existing);
  fs::copy_file(keys / "author.pem", d / "author.pem", fs::copy_options::overwrite_existing);
  test::write_text(d / "recipe.yaml", R"(name: snp-id
source_date_epoch: 1700000000
kernel: kernel.bin
cmdline: [console=ttyS0]
initrd:
  files: [{src: init, dst: /init}]
measurements:
  snp:
    firmware: synth_ovmf_4m.fd
    vcpus: [1, 2]
    vcpu_types: [EPYC-Milan]
    policy: {abi_major: 1, abi_minor: 51}
)" + id_block);
}

std::string id_block_yaml() {
  return std::string("    id_block:\n      id_key: id.pem\n      author_key: author.pem\n") +
         "      family_id: \"" + kFamily + "\"\n      image_id: \"" + kImage +
         "\"\n      guest_svn: 3\n";
}

test::RunResult check_py(const fs::path& manifest) {
  return test::run({"/usr/bin/python3",
                    (test::source_dir() / "tests/builder/pipeline/snp_id_block_check.py").string(),
                    manifest.string(), kFamily, kImage, "3"});
}

bool have_cryptography() {
  if (test::run({"/usr/bin/python3", "-c", "import cryptography"}).exit_code == 0) return true;
  test::skip_or_fail("python3-cryptography is missing (scripts/install-deps --test)");
  return false;
}

}  // namespace

TEST_CASE("measurements.snp.id_block signs an ID block for every launch digest", "[snp][idblock]") {
  if (!have_cryptography()) return;
  test::TempDir d;
  write_recipe(d, id_block_yaml());
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  const auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  const auto& snp = m["measurements"]["snp"];
  REQUIRE(snp["launch_digests"].size() == 2);
  CHECK(snp["id_block"]["guest_svn"] == 3);

  // The independent model: layout, fields, both signatures, key digests.
  auto py = check_py(d / "out/manifest.json");
  INFO(py.out << py.err);
  CHECK(py.exit_code == 0);
  CHECK(py.out.find("2 ID blocks verified") != std::string::npos);

  // The key digests are snp-create-id-block's for these keys
  // (tests/vectors/snp_id_block/expected.txt, base64 there).
  const std::string expected =
      test::read_text(test::source_dir() / "tests/vectors/snp_id_block/expected.txt");
  auto after = [](const std::string& text, const std::string& key) {
    const auto p = text.find(key);
    REQUIRE(p != std::string::npos);
    return text.substr(p + key.size(), text.find_first_of(",\n", p) - p - key.size());
  };
  Bytes id_digest;
  REQUIRE(from_hex(snp["id_key_digest"].get<std::string>(), &id_digest));
  CHECK(base64_encode(id_digest) == after(expected, "id_key_hash: "));

  // The CoRIM's SNP CoMID carries it (mkey 643, ID_KEY_DIGEST; docs/corim.md).
  auto c = test::run_mkguest({"export", "corim", "out", "-o", "c.cbor"}, {}, d.path());
  REQUIRE(c.exit_code == 0);
  const std::string corim = test::read_text(d / "c.cbor");
  CHECK(corim.find(std::string(id_digest.begin(), id_digest.end())) != std::string::npos);

  // The same entry through `measure snp-id-block`: the same block and auth.
  for (const auto& e : snp["launch_digests"]) {
    Bytes ld;
    REQUIRE(from_hex(e["digest"].get<std::string>(), &ld));
    auto r = test::run_mkguest(
        {"measure", "snp-id-block", "--measurement", base64_encode(ld), "--idkey", "id.pem",
         "--authorkey", "author.pem", "--policy", snp["policy"]["value"].get<std::string>(),
         "--guest-svn", "3", "--family-id", kFamily, "--image-id", kImage},
        {}, d.path());
    REQUIRE(r.exit_code == 0);
    CHECK(after(r.out, "id-block=") == e["id_block"].get<std::string>());
    CHECK(after(r.out, "id-auth=") == e["id_auth"].get<std::string>());
  }

  // Reproducible: a second build writes the same manifest.
  auto again = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out2"}, {}, d.path());
  REQUIRE(again.exit_code == 0);
  CHECK(test::read_text(d / "out/manifest.json") == test::read_text(d / "out2/manifest.json"));

  // verify re-derives the blocks and checks the signatures.
  auto v = test::run_mkguest({"verify", "out", "--inputs", "."}, {}, d.path());
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
}

TEST_CASE("a changed ID block or ID auth byte is found by verify and the model", "[snp][idblock]") {
  if (!have_cryptography()) return;
  test::TempDir d;
  write_recipe(d, id_block_yaml());
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path()).exit_code ==
          0);
  auto m = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  for (const char* field : {"id_block", "id_auth"}) {
    INFO(field);
    auto t = m;
    Bytes b;
    REQUIRE(
        base64_decode(t["measurements"]["snp"]["launch_digests"][0][field].get<std::string>(), &b));
    b[0x50] ^= 1;  // the block's version; a byte of the ID block signature's r
    t["measurements"]["snp"]["launch_digests"][0][field] = base64_encode(b);
    test::write_text(d / "tampered.json", t.dump());
    auto py = check_py(d / "tampered.json");
    CHECK(py.exit_code == 1);
    auto v = test::run_mkguest({"verify", "out", "--manifest", "tampered.json", "--inputs", "."},
                               {}, d.path());
    INFO(v.out << v.err);
    CHECK(v.exit_code == 1);
    CHECK(v.out.find("launch_digests[0].id_") != std::string::npos);
  }
}

TEST_CASE("measurements.snp.id_block errors name the place", "[snp][idblock]") {
  test::TempDir d;
  write_recipe(d, "    id_block:\n      id_key: id.pem\n");
  auto r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("recipe.yaml:") != std::string::npos);
  CHECK(r.err.find("author_key") != std::string::npos);
  CHECK_FALSE(fs::exists(d / "out"));

  write_recipe(d,
               "    id_block:\n      id_key: id.pem\n      author_key: author.pem\n"
               "      family_id: \"0011\"\n");
  r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("recipe.yaml:16:") != std::string::npos);
  CHECK(r.err.find("32 hex digits") != std::string::npos);

  // A P-256 key is not an SNP ID key: the error names the file.
  REQUIRE(test::run({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-out", (d / "p256.pem").string()})
              .exit_code == 0);
  write_recipe(d, "    id_block:\n      id_key: p256.pem\n      author_key: author.pem\n");
  r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  INFO(r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("p256.pem") != std::string::npos);
  CHECK_FALSE(fs::exists(d / "out"));
}
