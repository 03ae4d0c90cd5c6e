// Drop-in commands read an empty value written with '=' ("--append=") as the
// tools they stand in for do: argparse (sev-snp-measure, snp-create-id-block),
// popt (veritysetup) and GLib (genprotimg) pass an empty string, where CLI11
// alone reports a missing value. Each case runs next to the reference tool,
// or next to its golden output when the tool cannot run here (README.md,
// "Usage"; the uki build and pcr11 cases are in their own tests).
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/se_fixture.h"
#include "tests/snp_fixtures.h"
#include "tests/test_util.h"
#include "tests/verity_test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

std::string first_line(const std::string& s) {
  std::string l = s.substr(0, s.find('\n'));
  while (!l.empty() && l.back() == ' ') l.pop_back();
  return l;
}

// The rc-0 lines of tests/vectors/snp.txt (sev-snp-measure 0.0.13) over the
// synthetic fixtures that pass a kernel.
struct SnpVector {
  std::vector<std::string> args;
  std::string out;
};

std::vector<SnpVector> snp_kernel_vectors() {
  std::vector<SnpVector> out;
  std::ifstream f(test::source_dir() / "tests/vectors/snp.txt");
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#' || line[0] == '!') continue;
    auto p1 = line.find(" | ");
    auto p2 = line.find(" | ", p1 + 3);
    std::string args = line.substr(0, p1);
    if (line.substr(p1 + 3, p2 - p1 - 3) != "0") continue;
    if (args.find("deb12_") != std::string::npos) continue;
    if (args.find("--kernel") == std::string::npos) continue;
    SnpVector v;
    std::istringstream in(args);
    std::string w;
    while (in >> w) v.args.push_back(w == "@C" ? "console=ttyS0 root=/dev/vda1 ro" : w);
    v.out = line.substr(p2 + 3);
    out.push_back(v);
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v) {
    if (x == s) return true;
  }
  return false;
}

// Runs `measure snp` over every vector `keep` accepts, with the arguments
// `args_of` makes of it, and compares the first output line with the golden
// one. Returns how many ran.
int check_snp_vectors(const std::function<bool(const SnpVector&)>& keep,
                      const std::function<std::vector<std::string>(const SnpVector&)>& args_of) {
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  int checked = 0;
  for (const auto& v : snp_kernel_vectors()) {
    if (!keep(v)) continue;
    std::vector<std::string> argv{"measure", "snp"};
    const std::vector<std::string> rest = args_of(v);
    argv.insert(argv.end(), rest.begin(), rest.end());
    auto r = test::run_mkguest(argv, {}, d.path());
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(first_line(r.out) == v.out);
    ++checked;
  }
  return checked;
}

}  // namespace

TEST_CASE("measure snp: --append= and --initrd= are an empty cmdline and no initrd", "[cli][snp]") {
  // sev-snp-measure 0.0.13 (sevhashes.py): `if append: cmdline = append.encode()
  // + b"\x00" else: cmdline = b"\x00"`, and `if initrd:` reads the file, else
  // hashes b"". An empty value is therefore the same as leaving the option out,
  // and the golden output of the run without it is the expected output.
  const int checked = check_snp_vectors([](const SnpVector& v) { return !has(v.args, "--append"); },
                                        [](const SnpVector& v) {
                                          std::vector<std::string> args = v.args;
                                          args.push_back("--append=");
                                          if (!has(v.args, "--initrd")) args.push_back("--initrd=");
                                          return args;
                                        });
  CHECK(checked >= 10);
}

TEST_CASE("measure snp: --opt=VALUE and --opt VALUE read the same", "[cli][snp]") {
  const int checked = check_snp_vectors([](const SnpVector& v) { return has(v.args, "--append"); },
                                        [](const SnpVector& v) {
                                          std::vector<std::string> args;
                                          for (std::size_t i = 0; i < v.args.size(); ++i) {
                                            const bool valued = v.args[i].rfind("--", 0) == 0 &&
                                                                i + 1 < v.args.size() &&
                                                                v.args[i + 1].rfind("--", 0) != 0;
                                            if (valued) {
                                              args.push_back(v.args[i] + "=" + v.args[i + 1]);
                                              ++i;
                                            } else {
                                              args.push_back(v.args[i]);
                                            }
                                          }
                                          return args;
                                        });
  CHECK(checked >= 10);
}

TEST_CASE("verity format --salt= is no salt, as veritysetup reads it", "[cli][verity]") {
  if (!test::have_tool("veritysetup")) {
    test::skip_or_fail("veritysetup: install cryptsetup-bin (scripts/install-deps --test)");
    return;
  }
  test::TempDir d;
  Bytes data = test::pattern_data(1 << 20, 7);
  std::ofstream(d / "data", std::ios::binary)
      .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  const std::string uuid = "--uuid=12345678-1234-5678-9abc-def012345678";
  auto ref = test::run(
      {"veritysetup", "format", "--salt=", uuid, (d / "data").string(), (d / "ref.hash").string()});
  REQUIRE(ref.exit_code == 0);
  auto ours = test::run_mkguest(
      {"verity", "format", "--salt=", uuid, (d / "data").string(), (d / "ours.hash").string()});
  INFO(ours.err);
  REQUIRE(ours.exit_code == 0);
  // The same header lines (salt "-", the same root hash) and the same hash file.
  auto line_of = [](const std::string& text, const std::string& key) {
    auto p = text.find(key);
    return p == std::string::npos ? std::string() : text.substr(p, text.find('\n', p) - p);
  };
  CHECK(line_of(ours.out, "Salt:") == line_of(ref.out, "Salt:"));
  CHECK(line_of(ref.out, "Salt:").find('-') != std::string::npos);
  CHECK(line_of(ours.out, "Root hash:") == line_of(ref.out, "Root hash:"));
  CHECK(test::sha256_file(d / "ours.hash") == test::sha256_file(d / "ref.hash"));
  // --uuid= is refused with a superblock and unread without, as veritysetup does.
  for (bool superblock : {true, false}) {
    std::vector<std::string> tail{"--uuid=", (d / "data").string(), (d / "u.hash").string()};
    if (!superblock) tail.insert(tail.begin(), "--no-superblock");
    std::vector<std::string> ref{"veritysetup", "format"}, ours{"verity", "format"};
    ref.insert(ref.end(), tail.begin(), tail.end());
    ours.insert(ours.end(), tail.begin(), tail.end());
    const int ref_exit = test::run(ref).exit_code;
    INFO("superblock " << superblock);
    CHECK(ref_exit == (superblock ? 1 : 0));
    CHECK(test::run_mkguest(ours).exit_code == ref_exit);
  }
  // Left out, the salt is derived from the seed: not empty.
  auto derived = test::run_mkguest(
      {"verity", "format", uuid, (d / "data").string(), (d / "derived.hash").string()});
  REQUIRE(derived.exit_code == 0);
  CHECK(line_of(derived.out, "Salt:").find('-') == std::string::npos);
}

TEST_CASE("an empty '=' value after '--' stays an argument", "[cli]") {
  // "--" ends the options: "--x=" after it is a file name, not an option.
  auto r = test::run_mkguest({"verity", "format", "--", "--data=", "--hash="});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("--data=") != std::string::npos);
}

TEST_CASE("measure snp-id-block: empty '=' values fail where snp-create-id-block fails",
          "[cli][snp]") {
  // tests/vectors/snp_id_block/empty_values.txt: snp-create-id-block 0.0.13
  // fails on an empty --measurement, --idkey or --authorkey; mkguest refuses
  // the same (exit 1, naming the option), and the '=' form of the valid run
  // gives the golden values of expected.txt.
  const fs::path dir = test::source_dir() / "tests/vectors/snp_id_block";
  std::string measurement, id_block;
  {
    std::ifstream f(dir / "expected.txt");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("measurement=", 0) == 0) measurement = line.substr(12);
      if (line.rfind("id-block=", 0) == 0) id_block = line.substr(9);
    }
  }
  REQUIRE(!measurement.empty());
  std::ifstream f(dir / "empty_values.txt");
  std::string line;
  int checked = 0;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto p1 = line.find(" | "), p2 = line.find(" | ", p1 + 3);
    std::vector<std::string> argv{"measure", "snp-id-block"};
    std::istringstream in(line.substr(0, p1));
    for (std::string w; in >> w;) {
      const auto at = w.find("@M");
      if (at != std::string::npos) w.replace(at, 2, measurement);
      argv.push_back(w);
    }
    const int ref_exit = std::stoi(line.substr(p1 + 3, p2 - p1 - 3));
    const std::string ref_last = line.substr(p2 + 3);
    auto r = test::run_mkguest(argv, {}, dir);
    INFO(line << "\n" << r.err);
    if (ref_exit == 0) {
      REQUIRE(r.exit_code == 0);
      CHECK(r.out.substr(0, r.out.find(",id-auth=")) == "id-block=" + id_block);
      std::string last = r.out.substr(0, r.out.size() - 1);
      CHECK(last.substr(last.rfind('\n') + 1) == ref_last);
    } else {
      // Refused as a usage error that names the emptied option.
      CHECK(r.exit_code == 1);
      CHECK(r.out.empty());
      std::string emptied;
      for (const auto& w : argv) {
        if (w.size() > 2 && w.back() == '=') emptied = w.substr(0, w.size() - 1);
      }
      REQUIRE(!emptied.empty());
      CHECK(r.err.find(emptied) != std::string::npos);
    }
    ++checked;
  }
  CHECK(checked == 5);
  // mkguest's own options (not in snp-create-id-block 0.0.13): empty IDs are
  // its DefaultIDs, zeros, so the golden ID block; an empty number is refused.
  const std::vector<std::string> keys{"--measurement=" + measurement, "--idkey=id.pem",
                                      "--authorkey=author.pem"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv{"measure", "snp-id-block"};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    return test::run_mkguest(argv, {}, dir);
  };
  auto ids = with({"--family-id=", "--image-id="});
  INFO(ids.err);
  REQUIRE(ids.exit_code == 0);
  CHECK(ids.out.substr(0, ids.out.find(",id-auth=")) == "id-block=" + id_block);
  CHECK(with({"--policy="}).exit_code == 1);
  CHECK(with({"--guest-svn="}).exit_code == 1);
}

TEST_CASE("verity verify reads empty '=' values as veritysetup verify does", "[cli][verity]") {
  if (!test::have_tool("veritysetup")) {
    test::skip_or_fail("veritysetup: install cryptsetup-bin (scripts/install-deps --test)");
    return;
  }
  test::TempDir d;
  Bytes data = test::pattern_data(1 << 20, 9);
  std::ofstream(d / "data", std::ios::binary)
      .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  // Hash files made by veritysetup itself: no salt with and without a
  // superblock, and a salted one.
  auto root_of = [](const std::string& out) {
    auto p = out.find("Root hash:");
    REQUIRE(p != std::string::npos);
    p = out.find_first_of("0123456789abcdef", p + 10);
    return out.substr(p, 64);
  };
  const std::string data_path = (d / "data").string();
  auto format = [&](std::vector<std::string> opts, const std::string& hash) {
    std::vector<std::string> argv{"veritysetup", "format"};
    argv.insert(argv.end(), opts.begin(), opts.end());
    argv.insert(argv.end(), {data_path, (d / hash).string()});
    auto r = test::run(argv);
    REQUIRE(r.exit_code == 0);
    return root_of(r.out);
  };
  const std::string uuid = "--uuid=12345678-1234-5678-9abc-def012345678";
  const std::string plain = format({"--salt=", uuid}, "sb.hash");
  REQUIRE(format({"--no-superblock", "--salt="}, "nosb.hash") == plain);
  const std::string salted = format({"--no-superblock", "--salt=00ff"}, "salted.hash");
  struct Case {
    std::vector<std::string> opts;
    const char* hash;
    const std::string* root;
  };
  const std::vector<Case> cases = {
      {{"--no-superblock", "--salt="}, "nosb.hash", &plain},
      {{"--no-superblock", "--salt="}, "salted.hash", &salted},  // the wrong salt: a mismatch
      {{"--no-superblock", "--salt=00ff"}, "salted.hash", &salted},
      {{"--salt="}, "sb.hash", &plain},  // the superblock's parameters win
      {{"--salt=00ff"}, "sb.hash", &plain},
      {{"--uuid="}, "sb.hash", &plain},
      {{"--no-superblock", "--salt=", "--hash="}, "nosb.hash", &plain},
      {{"--no-superblock", "--salt=", "--data-blocks="}, "nosb.hash", &plain},
      {{"--no-superblock", "--salt=", "--hash-offset="}, "nosb.hash", &plain},
      {{"--no-superblock", "--salt=", "--format="}, "nosb.hash", &plain},
      {{"--no-superblock", "--salt=", "--data-block-size="}, "nosb.hash", &plain},
      {{"--no-superblock", "--salt=", "--hash-block-size="}, "nosb.hash", &plain},
  };
  int failures = 0;
  for (const auto& c : cases) {
    std::vector<std::string> tail = c.opts;
    tail.insert(tail.end(), {data_path, (d / c.hash).string(), *c.root});
    std::vector<std::string> ref{"veritysetup", "verify"}, ours{"verity", "verify"};
    ref.insert(ref.end(), tail.begin(), tail.end());
    ours.insert(ours.end(), tail.begin(), tail.end());
    auto r = test::run(ref);
    auto o = test::run_mkguest(ours);
    INFO(c.opts.back() << " " << c.hash << "\nveritysetup: " << r.err << "\nmkguest: " << o.err);
    // veritysetup: 0 verified, 1 bad option, 2 mismatch; mkguest: 0, 1
    // (usage error or mismatch, README.md "Exit codes").
    CHECK((o.exit_code == 0) == (r.exit_code == 0));
    if (r.exit_code != 0) CHECK(o.exit_code == 1);
    failures += r.exit_code != 0;
  }
  CHECK(failures == 7);
  // --seed (mkguest's own): empty is the default seed.
  auto seeded = test::run_mkguest(
      {"verity", "verify", "--seed=", "--salt=", data_path, (d / "sb.hash").string(), plain});
  CHECK(seeded.exit_code == 0);
}

TEST_CASE("se build reads empty '=' values as genprotimg 2.35 does", "[cli][se]") {
  // genprotimg cannot run here (s390-tools builds it for s390x only), so the
  // cases follow its source (s390-tools v2.35.0, genprotimg/src/pv): GLib
  // passes "--opt=" on as ""; hex_str_toull reads "" as 0 (g_ascii_strtoull
  // consumes the whole, empty string); a file option with "" fails to open;
  // --cert, --crl and --root-ca are read only to verify the host-key
  // documents. The unchanged parts are checked against golden run b
  // (tests/vectors/se/README.md).
  test::TempDir d;
  test::write_se_inputs(d.path());
  auto run_b = [&](std::vector<std::string> extra) {
    auto args = test::se_run_b_args(d.path());
    args.insert(args.end(), extra.begin(), extra.end());
    fs::remove(d / "out.img");
    return test::run_mkguest(args);
  };
  auto pcf_of = [](const std::string& out) {
    return nlohmann::json::parse(out)["pcf"].get<std::string>();
  };
  // Unread with --no-verify, and scf "" is 0, the default: run b's image.
  for (const char* opt : {"--cert=", "--crl=", "--root-ca=", "--x-scf="}) {
    auto r = run_b({opt});
    INFO(opt << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(test::sha256_file(d / "out.img") == test::kSeRunBImage);
  }
  // pcf and the PSW address "" are 0, as 0x0 (genprotimg's pcf default is 0xe0).
  auto pcf_empty = run_b({"--x-pcf=", "--x-psw="});
  INFO(pcf_empty.err);
  REQUIRE(pcf_empty.exit_code == 0);
  const std::string empty_sha = test::sha256_file(d / "out.img");
  CHECK(empty_sha != test::kSeRunBImage);
  auto pcf_zero = run_b({"--x-pcf=0x0", "--x-psw=0x0"});
  REQUIRE(pcf_zero.exit_code == 0);
  CHECK(test::sha256_file(d / "out.img") == empty_sha);
  CHECK(pcf_of(pcf_empty.out) == pcf_of(pcf_zero.out));
  // A file option with an empty value names no file: refused, nothing written.
  // Run b's own value of the option (if any) is taken out first.
  const std::vector<std::pair<std::string, std::string>> files = {
      {"", "--ramdisk"},
      {"-p", "--parmfile"},
      {"--comm-key", "--comm-key"},
      {"--x-comp-key", "--x-comp-key"},
      {"--x-header-key", "--x-header-key"},
      {"-k", "--host-key-document"},
      {"--stage3a", "--stage3a"},
      {"-o", "--output"}};
  for (const auto& [spelled, long_opt] : files) {
    auto args = test::se_run_b_args(d.path());
    auto it = std::find(args.begin(), args.end(), spelled);
    if (it != args.end()) args.erase(it, it + 2);
    args.push_back(long_opt + "=");
    fs::remove(d / "out.img");
    auto r = test::run_mkguest(args);
    INFO(long_opt << "=: " << r.err);
    CHECK(r.exit_code != 0);
    CHECK(r.exit_code != 3);
    CHECK_FALSE(fs::exists(d / "out.img"));
  }
  // Verifying, an empty --root-ca or --cert is a file that cannot be read.
  for (const char* opt : {"--root-ca=", "--cert="}) {
    auto args = test::se_run_b_args(d.path());
    args.erase(std::find(args.begin(), args.end(), "--no-verify"));
    args.push_back(opt);
    fs::remove(d / "out.img");
    auto r = test::run_mkguest(args);
    INFO(opt << ": " << r.err);
    CHECK(r.exit_code != 0);
    CHECK_FALSE(fs::exists(d / "out.img"));
  }
}
