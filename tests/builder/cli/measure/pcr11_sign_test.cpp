// `mkguest measure pcr11 sign` and `--profile` against the reference:
// systemd-measure 252 `sign` run live against swtpm (252 needs a TPM to sign),
// byte for byte over a matrix of sections, banks, phases and JSON modes; and
// systemd-measure 257 (trixie; glibc 2.38, so not runnable here) through the
// golden outputs in tests/vectors/pcr11/ (tool, version and commands in its
// README.md): calculate and sign with .uname, .sbat and .profile.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {
const char* kMeasure = "/usr/lib/systemd/systemd-measure";

// A software TPM on a per-process port, stopped when the test ends.
class Swtpm {
 public:
  explicit Swtpm(const fs::path& state) : port_(21000 + static_cast<int>(::getpid() % 20000)) {
    fs::create_directories(state);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate",
               ("dir=" + state.string()).c_str(), "--server",
               ("type=tcp,port=" + std::to_string(port_) + ",bindaddr=127.0.0.1").c_str(), "--ctrl",
               ("type=tcp,port=" + std::to_string(port_ + 1) + ",bindaddr=127.0.0.1").c_str(),
               "--flags", "not-need-init,startup-clear", static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Swtpm() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  std::string device() const {
    return "--tpm2-device=swtpm:host=127.0.0.1,port=" + std::to_string(port_);
  }

 private:
  int port_;
  pid_t pid_;
};

bool have_measure_252_sign() {
  if (!fs::exists(kMeasure) || !test::have_tool("swtpm") ||
      !fs::exists("/usr/lib/x86_64-linux-gnu/libtss2-esys.so.0") ||
      !fs::exists("/usr/lib/x86_64-linux-gnu/libtss2-tcti-swtpm.so.0")) {
    test::skip_or_fail(
        "systemd-measure, swtpm or libtss2 (esys, tcti-swtpm) is missing (scripts/install-deps "
        "--test installs systemd, swtpm, libtss2-esys-3.0.2-0, libtss2-tcti-swtpm0)");
    return false;
  }
  return true;
}

// The vector directory copied into `d`, the key made private (0600) as a
// signing key is kept.
void copy_vectors(const fs::path& d) {
  for (const auto& e : fs::directory_iterator(test::source_dir() / "tests/vectors/pcr11"))
    fs::copy_file(e.path(), d / e.path().filename());
  ::chmod((d / "pcr.key").c_str(), 0600);
}
}  // namespace

TEST_CASE("measure pcr11 sign prints what systemd-measure 252 sign prints", "[pcr][cli]") {
  if (!have_measure_252_sign()) return;
  test::TempDir d;
  copy_vectors(d.path());
  test::write_text(d / "dtb", std::string("\xd0\x0d\xfe\xed", 4) + "tree");
  const Swtpm tpm(d / "tpm");
  const std::vector<std::vector<std::string>> sets = {
      {"--linux=linux"},
      {"--linux=linux", "--osrel=osrel", "--cmdline=cmdline", "--initrd=initrd",
       "--pcrpkey=pcr.pub"},
      {"--linux=linux", "--splash=", "--dtb=dtb", "--initrd="},
  };
  const std::vector<std::vector<std::string>> modes = {
      {},
      {"--json=pretty", "--bank=sha256", "--bank=SHA1", "--phase=enter-initrd", "--phase=:"},
      {"--json=off", "--bank=sha384", "--phase=enter-initrd:leave-initrd"},
      {"-j", "--bank=sha256", "--phase=a::b:", "--public-key=pcr.pub"},
      {"--json=short", "--bank=sha512", "--phase=enter-initrd:leave-initrd", "--phase=enter-initrd",
       "--phase=enter-initrd"},
  };
  int n = 0;
  for (const auto& set : sets) {
    for (const auto& mode : modes) {
      std::vector<std::string> args = set;
      args.insert(args.end(), mode.begin(), mode.end());
      args.push_back("--private-key=pcr.key");
      std::string all;
      for (const auto& a : args) all += a + " ";
      INFO(all);
      std::vector<std::string> ref{kMeasure, "sign", tpm.device()};
      ref.insert(ref.end(), args.begin(), args.end());
      test::RunResult r;
      for (int attempt = 0; attempt < 50; ++attempt) {  // until swtpm listens
        r = test::run(ref, {}, d.path());
        if (r.exit_code == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      std::vector<std::string> ours{"measure", "pcr11", "sign"};
      ours.insert(ours.end(), args.begin(), args.end());
      auto o = test::run_mkguest(ours, {}, d.path());
      INFO(o.err);
      CHECK(o.exit_code == 0);
      CHECK(o.out == r.out);
      // --tpm2-device is accepted (a drop-in for 252's command line) and ignored.
      ours.push_back(tpm.device());
      CHECK(test::run_mkguest(ours, {}, d.path()).out == r.out);
      ++n;
    }
  }
  CHECK(n == 15);
  // No key: both refuse (exit 1).
  CHECK(test::run({kMeasure, "sign", "--linux=linux", tpm.device()}, {}, d.path()).exit_code == 1);
  auto nokey = test::run_mkguest({"measure", "pcr11", "sign", "--linux=linux"}, {}, d.path());
  CHECK(nokey.exit_code == 1);
  CHECK_THAT(nokey.err, Catch::Contains("No private key specified, use --private-key="));
  // A public key that is not the private key's is refused (systemd-measure
  // would sign with a fingerprint no TPM policy can match).
  REQUIRE(test::run({"openssl", "genpkey", "-algorithm", "RSA", "-out", "other.key"}, {}, d.path())
              .exit_code == 0);
  REQUIRE(test::run({"openssl", "pkey", "-in", "other.key", "-pubout", "-out", "other.pub"}, {},
                    d.path())
              .exit_code == 0);
  auto other = test::run_mkguest({"measure", "pcr11", "sign", "--linux=linux",
                                  "--private-key=pcr.key", "--public-key=other.pub"},
                                 {}, d.path());
  CHECK(other.exit_code == 2);
  CHECK_THAT(other.err, Catch::Contains("other.pub: error: this public key is not the PCR"));
}

TEST_CASE("measure pcr11 --profile, --uname, --sbat equal systemd-measure 257's golden outputs",
          "[pcr][cli]") {
  test::TempDir d;
  copy_vectors(d.path());
  // Each golden file: the systemd-measure 257 arguments on its first line
  // ("# args: ..."), then its stdout (README.md).
  int n = 0;
  for (const auto& e : fs::directory_iterator(d.path())) {
    if (e.path().extension() != ".out") continue;
    const std::string text = test::read_text(e.path());
    const auto eol = text.find('\n');
    REQUIRE(text.rfind("# args: ", 0) == 0);
    std::vector<std::string> args{"measure", "pcr11"};
    std::string line = text.substr(8, eol - 8), word;
    for (char ch : line + " ") {
      if (ch != ' ') {
        word.push_back(ch);
      } else if (!word.empty()) {
        args.push_back(word);
        word.clear();
      }
    }
    INFO(e.path().filename().string() + ": " + line);
    auto o = test::run_mkguest(args, {}, d.path());
    INFO(o.err);
    CHECK(o.exit_code == 0);
    CHECK(o.out == text.substr(eol + 1));
    ++n;
  }
  CHECK(n >= 6);
  // The stub rules: a 252 or 254 stub does not measure .profile.
  auto with = test::run_mkguest(
      {"measure", "pcr11", "--linux=linux", "--profile=profile", "--stub-version=254"}, {},
      d.path());
  auto without =
      test::run_mkguest({"measure", "pcr11", "--linux=linux", "--stub-version=254"}, {}, d.path());
  CHECK(with.exit_code == 0);
  CHECK(with.out == without.out);
  auto v257 =
      test::run_mkguest({"measure", "pcr11", "--linux=linux", "--profile=profile"}, {}, d.path());
  CHECK(v257.out != without.out);
}
