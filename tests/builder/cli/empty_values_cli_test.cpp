// Drop-in commands read an empty value written with '=' ("--append=") as the
// tools they stand in for do: argparse (sev-snp-measure) and getopt_long /
// popt (veritysetup) pass an empty string, where CLI11 alone reports a
// missing value. Each case runs next to the reference tool, or next to its
// golden output when the tool cannot run here (README.md, "Usage").
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

}  // namespace

TEST_CASE("measure snp: --append= and --initrd= are an empty cmdline and no initrd", "[cli][snp]") {
  // sev-snp-measure 0.0.13 (sevhashes.py): `if append: cmdline = append.encode()
  // + b"\x00" else: cmdline = b"\x00"`, and `if initrd:` reads the file, else
  // hashes b"". An empty value is therefore the same as leaving the option out,
  // and the golden output of the run without it is the expected output.
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  int checked = 0;
  for (const auto& v : snp_kernel_vectors()) {
    if (has(v.args, "--append")) continue;
    std::vector<std::string> argv{"measure", "snp"};
    argv.insert(argv.end(), v.args.begin(), v.args.end());
    argv.push_back("--append=");
    if (!has(v.args, "--initrd")) argv.push_back("--initrd=");
    auto r = test::run_mkguest(argv, {}, d.path());
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(first_line(r.out) == v.out);
    ++checked;
  }
  CHECK(checked >= 10);
}

TEST_CASE("measure snp: --opt=VALUE and --opt VALUE read the same", "[cli][snp]") {
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  int checked = 0;
  for (const auto& v : snp_kernel_vectors()) {
    if (!has(v.args, "--append")) continue;
    std::vector<std::string> argv{"measure", "snp"};
    for (std::size_t i = 0; i < v.args.size(); ++i) {
      const bool valued = v.args[i].rfind("--", 0) == 0 && i + 1 < v.args.size() &&
                          v.args[i + 1].rfind("--", 0) != 0;
      if (valued) {
        argv.push_back(v.args[i] + "=" + v.args[i + 1]);
        ++i;
      } else {
        argv.push_back(v.args[i]);
      }
    }
    auto r = test::run_mkguest(argv, {}, d.path());
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(first_line(r.out) == v.out);
    ++checked;
  }
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
