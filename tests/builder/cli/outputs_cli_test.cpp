// Every path mkguest writes, as a user names it: a symlink, a FIFO or a
// device node at an output path is refused with exit 2 and left alone; with
// --force the entry itself is replaced, and its target is never written or
// chmodded. `build` refuses a symlinked OUTDIR; `verify` reads nothing
// through a symlink or from a special file in OUTDIR (docs/security.md).
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "base/error.h"
#include "base/file.h"
#include "tests/attest_fixture.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

void make_minimal(const fs::path& dir) {
  test::write_text(dir / "vmlinuz", "kernel");
  test::write_text(dir / "init", "#!/bin/sh\n");
  test::write_text(dir / "recipe.yaml",
                   "name: t\nsource_date_epoch: 1\nkernel: vmlinuz\ncmdline: quiet\n"
                   "initrd:\n  files:\n    - {src: init, dst: /init}\n");
}

void make_key(const fs::path& dir) {
  REQUIRE(test::run(
              {"openssl", "genpkey", "-algorithm", "ed25519", "-out", (dir / "priv.pem").string()})
              .exit_code == 0);
  REQUIRE(test::run({"openssl", "pkey", "-in", (dir / "priv.pem").string(), "-pubout", "-out",
                     (dir / "pub.pem").string()})
              .exit_code == 0);
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Runs `args` (with OUT standing for the output path) three times: onto a
// symlink (refused, the target untouched), onto a FIFO (refused at once,
// nothing hangs) and with --force onto the symlink (the link replaced by a
// regular file, its target untouched).
void check_output_refusals(const test::TempDir& d, std::vector<std::string> args,
                           const std::vector<std::string>& force = {"--force"}) {
  const fs::path out = d / "out.file";
  test::write_text(d / "victim", "keep");
  ::chmod((d / "victim").c_str(), 0600);
  auto with_out = [&](std::vector<std::string> a, const std::vector<std::string>& extra) {
    for (auto& s : a)
      if (s == "OUT") s = out.string();
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  INFO(args[0]);
  fs::remove(out);
  fs::create_symlink(d / "victim", out);
  auto r = test::run_mkguest(with_out(args, {}), {}, d.path());
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(out.string()));
  CHECK(test::read_text(d / "victim") == "keep");
  CHECK(mode_of(d / "victim") == 0600);

  fs::remove(out);
  REQUIRE(::mkfifo(out.c_str(), 0600) == 0);
  r = test::run_mkguest(with_out(args, {}), {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(fs::is_fifo(fs::symlink_status(out)));

  fs::remove(out);
  fs::create_symlink(d / "victim", out);
  r = test::run_mkguest(with_out(args, force), {}, d.path());
  CHECK(r.exit_code == 0);
  CHECK(fs::is_regular_file(fs::symlink_status(out)));
  CHECK(test::read_text(d / "victim") == "keep");
  CHECK(mode_of(d / "victim") == 0600);
}

}  // namespace

TEST_CASE("sign -o and verify-signature --payload-out refuse symlinks and FIFOs", "[outputs]") {
  test::TempDir d;
  make_key(d.path());
  test::write_text(d / "payload.json", "{\"a\":1}");
  check_output_refusals(d, {"sign", "payload.json", "--key", "priv.pem", "-o", "OUT"});
  REQUIRE(test::run_mkguest({"sign", "payload.json", "--key", "priv.pem", "-o", "env.json"}, {},
                            d.path())
              .exit_code == 0);
  check_output_refusals(
      d, {"verify-signature", "env.json", "--key", "pub.pem", "--payload-out", "OUT"});
  CHECK(test::read_text(d / "out.file") == "{\"a\":1}");
}

TEST_CASE("export -o and --kbs-client-script refuse symlinks, and the script is 0755",
          "[outputs]") {
  test::TempDir d;
  test::make_outdir(d / "build");  // a manifest with SNP, TDX, TPM and SE values
  check_output_refusals(d, {"export", "provenance", "build", "-o", "OUT"});
  check_output_refusals(d, {"export", "sbom", "build", "-o", "OUT"});
  check_output_refusals(d, {"export", "trustee", "build", "-o", "OUT"});
  check_output_refusals(
      d, {"export", "trustee", "build", "-o", "rvps.json", "--kbs-client-script", "OUT"});
  CHECK(mode_of(d / "out.file") == 0755);
}

TEST_CASE("se build refuses a symlink at -o or --hdr-out before writing anything", "[outputs]") {
  test::TempDir d;
  Bytes k(0x10440, 0x5a);
  std::copy_n("S390EP", 6, k.begin() + 0x10008);
  std::fill_n(k.begin() + 0x10430, 8, 0);
  write_file(d / "image", k);
  write_file(d / "stage3a.bin", std::string(9912, 'a'));
  write_file(d / "stage3b.bin", std::string(5860, 'b'));
  fs::copy_file(test::source_dir() / "tests/vectors/se/host.crt", d / "host.crt");
  const std::vector<std::string> base{"se",        "build",       "-i",          "image",
                                      "--stage3a", "stage3a.bin", "--stage3b",   "stage3b.bin",
                                      "-k",        "host.crt",    "--no-verify", "--x-test-seed",
                                      "s1"};
  auto args = base;
  args.insert(args.end(), {"-o", "OUT"});
  check_output_refusals(d, args);
  args = base;
  args.insert(args.end(), {"-o", "img", "--hdr-out", "out.file"});
  fs::remove(d / "out.file");
  fs::create_symlink(d / "victim", d / "out.file");
  auto r = test::run_mkguest(args, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK_FALSE(fs::exists(d / "img"));  // refused before the image was written
  CHECK(test::read_text(d / "victim") == "keep");
}

TEST_CASE("build refuses a symlinked OUTDIR and leaves its target alone", "[outputs]") {
  test::TempDir d;
  make_minimal(d.path());
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "real"}, {}, d.path()).exit_code ==
          0);
  const std::string before = test::sha256_file(d / "real/manifest.json");
  fs::create_directory_symlink("real", d / "link");
  auto r = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "link", "--set", "cmdline=x"}, {},
                             d.path());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("link: error: the output directory is a symlink"));
  CHECK(fs::is_symlink(d / "link"));
  CHECK(test::sha256_file(d / "real/manifest.json") == before);
}

TEST_CASE("verify reads no output through a symlink or from a FIFO in OUTDIR", "[outputs]") {
  test::TempDir d;
  make_minimal(d.path());
  REQUIRE(test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path()).exit_code ==
          0);
  REQUIRE(test::run_mkguest({"verify", "out"}, {}, d.path()).exit_code == 0);
  test::write_text(d / "secret", "not an output");
  fs::rename(d / "out/initrd", d / "initrd.saved");
  fs::create_symlink(d / "secret", d / "out/initrd");
  auto r = test::run_mkguest({"verify", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("out/initrd: error: is a symlink"));
  CHECK(r.out.find("not an output") == std::string::npos);

  fs::remove(d / "out/initrd");
  REQUIRE(::mkfifo((d / "out/initrd").c_str(), 0600) == 0);
  r = test::run_mkguest({"verify", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("out/initrd: error: is not a regular file"));

  fs::remove(d / "out/initrd");
  fs::rename(d / "initrd.saved", d / "out/initrd");
  fs::rename(d / "out/manifest.json", d / "manifest.saved");
  fs::create_symlink(d / "manifest.saved", d / "out/manifest.json");
  r = test::run_mkguest({"verify", "out"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("out/manifest.json: error: is a symlink"));
}

TEST_CASE("write_file never writes through a symlink or into a FIFO", "[outputs]") {
  test::TempDir d;
  test::write_text(d / "victim", "keep");
  fs::create_symlink(d / "victim", d / "link");
  CHECK_THROWS_AS(write_file(d / "link", std::string("x")), InputError);
  CHECK(test::read_text(d / "victim") == "keep");
  REQUIRE(::mkfifo((d / "fifo").c_str(), 0600) == 0);
  CHECK_THROWS_AS(write_file(d / "fifo", std::string("x")), InputError);
  write_file(d / "victim", std::string("new"));
  CHECK(test::read_text(d / "victim") == "new");
}
