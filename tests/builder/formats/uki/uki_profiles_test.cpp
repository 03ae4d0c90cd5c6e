// Multi-profile UKIs (builder/formats/uki/sections.h: profile PEs, --join-profile,
// profile_view) against ukify 257: byte-identical to ukify run here
// (scripts/fetch-ukify) for unsigned UKIs, and to the sha256 of ukify 257 +
// systemd-measure 257 outputs recorded in a trixie chroot for a UKI with a
// signed policy per profile; PCR 11 per profile (measure pcr11 --uki-profile,
// inspect's pcr11-profiles) against systemd-measure 257's golden JSON
// (tests/vectors/uki_profiles/README.md gives tool, version and commands).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <map>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file.h"
#include "builder/formats/uki/sections.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

const fs::path kEfi = ".cache/ukify/root/usr/lib/systemd/boot/efi";

bool have_ukify_and_stubs() {
  const fs::path root = test::source_dir();
  if (!fs::exists(root / ".cache/ukify/root/usr/lib/systemd/ukify") ||
      !fs::exists(root / kEfi / "linuxx64.efi.stub") ||
      !fs::exists(root / kEfi / "addonx64.efi.stub")) {
    test::skip_or_fail("ukify 257 and its stubs are missing (scripts/fetch-ukify)");
    return false;
  }
  if (test::run({"/usr/bin/python3", "-c", "import pefile"}).exit_code != 0) {
    test::skip_or_fail(
        "/usr/bin/python3 has no pefile (scripts/install-deps --test installs python3-pefile)");
    return false;
  }
  return true;
}

// The inputs of tests/vectors/pcr11 in `d`, the key private (0600).
void copy_inputs(const fs::path& d) {
  for (const auto& e : fs::directory_iterator(test::source_dir() / "tests/vectors/pcr11"))
    fs::copy_file(e.path(), d / e.path().filename());
  ::chmod((d / "pcr.key").c_str(), 0600);
}

// The ukify commands of tests/vectors/uki_profiles/README.md, without
// --stub/--output (added per tool).
struct Build {
  std::string output, stub;
  std::vector<std::string> args;
};

std::vector<Build> builds() {
  const std::vector<std::string> base{"--linux=linux", "--initrd=initrd", "--cmdline=@cmdline",
                                      "--os-release=@osrel", "--uname=6.1.0-test"};
  std::vector<std::string> multi = base, signed_multi = base;
  multi.push_back("--join-profile=p1.efi");
  for (const char* a : {"--profile=@profile", "--join-profile=p1.efi", "--join-profile=p2.efi",
                        "--pcr-private-key=pcr.key", "--pcr-public-key=pcr.pub",
                        "--pcr-banks=sha256", "--phases=enter-initrd"})
    signed_multi.push_back(a);
  return {
      {"p1.efi",
       "addonx64.efi.stub",
       {"--profile=@profile-debug", "--cmdline=console=ttyS0 debug"}},
      {"p2.efi",
       "addonx64.efi.stub",
       {"--profile=ID=rescue\nTITLE=Rescue", "--cmdline=@cmdline", "--initrd=initrd"}},
      {"multi.efi", "linuxx64.efi.stub", multi},
      {"multi-signed.efi", "linuxx64.efi.stub", signed_multi},
  };
}

// sha256 of ukify 257's outputs in the trixie chroot (README.md).
const std::map<std::string, std::string> kGolden = {
    {"p1.efi", "e554a897cd9c5a9e647f001eb8bd33db9279076676698a72c9f793e83e98db91"},
    {"p2.efi", "0d6d0ce4abbdc69ad3f089a0374c393254c6c2b74e930b7923b4d11ba17c4588"},
    {"multi.efi", "339a0dc71079a15ad4d8f2d6c497628b4eb86bd0e5dfe4af914df792bfef57e4"},
    {"multi-signed.efi", "0fc674d08d18fcba6e271d59a6beb2acdb2b9c68e184b09ab8fdaff301830e41"},
};

}  // namespace

TEST_CASE("multi-profile UKIs are byte-identical to ukify 257's", "[uki][pcr]") {
  if (!have_ukify_and_stubs()) return;
  test::TempDir d;
  copy_inputs(d.path());
  fs::create_directories(d / "ref");
  for (const auto& b : builds()) {
    INFO(b.output);
    const std::string stub = (test::source_dir() / kEfi / b.stub).string();
    std::vector<std::string> m{"uki", "build", "--stub=" + stub, "-o", b.output};
    m.insert(m.end(), b.args.begin(), b.args.end());
    auto o = test::run_mkguest(m, {}, d.path());
    INFO(o.err);
    REQUIRE(o.exit_code == 0);
    CHECK(test::sha256_file(d / b.output) == kGolden.at(b.output));
    // ukify 257 live, except with a PCR key: it would call this host's
    // systemd-measure 252, which has no --profile (the golden digest covers it).
    if (b.output == "multi-signed.efi") continue;
    std::vector<std::string> u{
        "/usr/bin/python3",
        (test::source_dir() / ".cache/ukify/root/usr/lib/systemd/ukify").string(), "build",
        "--stub=" + stub, "--output=ref/" + b.output};
    for (std::string a : b.args) {
      if (a.rfind("--join-profile=", 0) == 0) a = "--join-profile=ref/" + a.substr(15);
      u.push_back(a);
    }
    auto r = test::run(u, {}, d.path());
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(test::sha256_file(d / "ref" / b.output) == test::sha256_file(d / b.output));
  }

  // PCR 11 per profile: measure pcr11 --uki-profile and inspect's
  // pcr11-profiles against systemd-measure 257's JSON.
  const fs::path vectors = test::source_dir() / "tests/vectors/uki_profiles";
  auto inspect = test::run_mkguest({"inspect", "multi-signed.efi", "--json"}, {}, d.path());
  INFO(inspect.err);
  REQUIRE(inspect.exit_code == 0);
  const auto report = nlohmann::json::parse(inspect.out);
  REQUIRE(report.contains("pcr11-profiles"));
  const auto* profiles = &report["pcr11-profiles"];
  for (int i = 0; i < 3; ++i) {
    INFO("profile " << i);
    const std::string golden = test::read_text(vectors / ("profile" + std::to_string(i) + ".json"));
    auto o = test::run_mkguest({"measure", "pcr11", "--uki=multi-signed.efi",
                                "--uki-profile=" + std::to_string(i), "--json=short"},
                               {}, d.path());
    CHECK(o.exit_code == 0);
    CHECK(o.out == golden);
    const auto ref = nlohmann::json::parse(golden);
    REQUIRE(profiles->is_array());
    REQUIRE(profiles->size() == 3);
    const auto& p = (*profiles)[i];
    CHECK(p["profile"] == i);
    CHECK(p["id"] == std::vector<std::string>{"main", "debug", "rescue"}[i]);
    for (const auto& [bank, entries] : ref.items()) {
      REQUIRE(entries.size() == 4);
      for (std::size_t k = 0; k < 4; ++k)  // pcr11-profiles also has phase "" first
        CHECK(p["pcr11"][bank][k + 1]["value"] == entries[k]["hash"]);
    }
  }
  CHECK(test::run_mkguest({"measure", "pcr11", "--uki=multi-signed.efi", "--uki-profile=3"}, {},
                          d.path())
            .exit_code == 1);
}

TEST_CASE("a profile PE must start with its one .profile, as ukify requires", "[uki]") {
  if (!have_ukify_and_stubs()) return;
  test::TempDir d;
  copy_inputs(d.path());
  const std::string linux_stub = (test::source_dir() / kEfi / "linuxx64.efi.stub").string();
  // On the Linux stub, the stub's .sbat precedes .profile: ukify refuses to join it.
  REQUIRE(test::run_mkguest({"uki", "build", "--stub=" + linux_stub, "--profile=ID=x",
                             "--cmdline=x", "-o", "bad.efi"},
                            {}, d.path())
              .exit_code == 0);
  auto j = test::run_mkguest({"uki", "build", "--stub=" + linux_stub, "--linux=linux",
                              "--os-release=@osrel", "--join-profile=bad.efi", "-o", "j.efi"},
                             {}, d.path());
  CHECK(j.exit_code == 2);
  CHECK_THAT(j.err, Catch::Contains("bad.efi:0x"));
  CHECK_THAT(j.err, Catch::Contains("must be .profile, not .sbat"));
  // profile_view: base sections overridden by the profile's, in the profile's order first.
  const Bytes a{'a'}, b{'b'}, c{'c'}, p0{'0'}, p1{'1'};
  const std::vector<UkiSectionInput> all{
      {".linux", a}, {".cmdline", b}, {".profile", p0}, {".profile", p1}, {".cmdline", c}};
  CHECK(profile_count(all) == 2);
  const auto v1 = profile_view(all, 1);
  REQUIRE(v1.size() == 3);
  CHECK(v1[0].name == ".profile");
  CHECK(v1[1].name == ".cmdline");
  CHECK(v1[1].data[0] == 'c');
  CHECK(v1[2].name == ".linux");
  CHECK(profile_view(all, 0).size() == 3);
  CHECK_THROWS_AS(profile_view(all, 2), ValueError);
  const std::vector<UkiSectionInput> plain{{".linux", a}};
  CHECK(profile_count(plain) == 1);
  CHECK(profile_view(plain, 0).size() == 1);
}

TEST_CASE("outputs.uki.profiles builds the UKI uki build --join-profile builds", "[uki][pcr]") {
  if (!have_ukify_and_stubs()) return;
  test::TempDir d;
  copy_inputs(d.path());
  const std::string stub = (test::source_dir() / kEfi / "linuxx64.efi.stub").string();
  const std::string addon = (test::source_dir() / kEfi / "addonx64.efi.stub").string();
  test::write_text(d / "recipe.yaml",
                   "name: profiles\nkernel: linux\ncmdline: console=ttyS0\noutputs:\n  direct: "
                   "false\n  uki:\n    stub: " +
                       stub +
                       "\n    os_release: osrel\n    uname: 6.1.0-test\n"
                       "    pcr_signature: {private_key: pcr.key, public_key: pcr.pub, banks: "
                       "[sha256], phases: [enter-initrd]}\n    profiles:\n"
                       "      - {profile: \"ID=debug\\nTITLE=Debug\\n\", cmdline: \"console=ttyS0 "
                       "debug\"}\n      - {profile: \"ID=rescue\"}\n");
  auto b = test::run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, d.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  // The same UKI from the CLI: two profile PEs joined to the base.
  test::write_text(d / "debug-cmdline", "console=ttyS0 debug");
  for (const auto& [out, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"p1.efi", {"--profile=@profile-debug", "--cmdline=@debug-cmdline"}},
           {"p2.efi", {"--profile=ID=rescue"}}}) {
    std::vector<std::string> m{"uki", "build", "--stub=" + addon, "-o", out};
    m.insert(m.end(), args.begin(), args.end());
    REQUIRE(test::run_mkguest(m, {}, d.path()).exit_code == 0);
  }
  auto c = test::run_mkguest(
      {"uki", "build", "--stub=" + stub, "--linux=linux", "--cmdline=@out/cmdline",
       "--os-release=@osrel", "--uname=6.1.0-test", "--join-profile=p1.efi",
       "--join-profile=p2.efi", "--pcr-private-key=pcr.key", "--pcr-public-key=pcr.pub",
       "--pcr-banks=sha256", "--phases=enter-initrd", "-o", "cli.efi"},
      {}, d.path());
  INFO(c.err);
  REQUIRE(c.exit_code == 0);
  CHECK(test::sha256_file(d / "out/uki.efi") == test::sha256_file(d / "cli.efi"));
  // The manifest's pcr11-profiles: profile 1 against systemd-measure 257 run
  // over the same sections given as files is in the first test; here, the
  // manifest agrees with measure pcr11 --uki-profile for each profile, and
  // verify re-derives it.
  const auto manifest = nlohmann::json::parse(test::read_text(d / "out/manifest.json"));
  const auto& profiles = manifest.at("measurements").at("tpm").at("pcr11-profiles");
  REQUIRE(profiles.size() == 3);
  for (int i = 0; i < 3; ++i) {
    auto o = test::run_mkguest({"measure", "pcr11", "--uki=out/uki.efi", "--bank=sha256",
                                "--uki-profile=" + std::to_string(i), "--json=short"},
                               {}, d.path());
    REQUIRE(o.exit_code == 0);
    const auto j = nlohmann::json::parse(o.out);
    CHECK(profiles[i]["pcr11"]["sha256"][1]["value"] == j["sha256"][0]["hash"]);
  }
  CHECK(profiles[1]["id"] == "debug");
  auto v = test::run_mkguest({"verify", "out"}, {}, d.path());
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  // A base profile alone would be a profile PE, not a bootable UKI: refused.
  const std::string yaml = test::read_text(d / "recipe.yaml");
  test::write_text(d / "alone.yaml",
                   yaml.substr(0, yaml.find("    profiles:")) + "    profile: ID=main\n");
  auto alone = test::run_mkguest({"build", "-q", "alone.yaml", "-o", "out2"}, {}, d.path());
  CHECK(alone.exit_code == 2);
  CHECK_THAT(alone.err, Catch::Contains("alone.yaml:11:14: error: 'profile' needs 'profiles'"));
}
