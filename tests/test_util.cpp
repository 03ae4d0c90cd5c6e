#include "tests/test_util.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "base/digest.h"
#include "base/file.h"

namespace mkguest::test {

namespace fs = std::filesystem;

namespace {
std::vector<std::string>& skips() {
  static std::vector<std::string> s;
  return s;
}
}  // namespace

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && *ci && std::strcmp(ci, "false") != 0 && std::strcmp(ci, "0") != 0;
}

void skip_or_fail(const std::string& reason) {
  if (in_ci()) FAIL("prerequisite missing in CI (CI is set, so this is not skipped): " + reason);
  skip_with_warning(reason);
}

void skip_with_warning(const std::string& reason) {
  skips().push_back(Catch::getResultCapture().getCurrentTestName() + ": " + reason);
  WARN("skipped: " + reason);
}

const std::vector<std::string>& skipped_tests() { return skips(); }

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "mkguest-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

RunResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env,
              const fs::path& cwd) {
  // stdout and stderr go to temp files so large outputs cannot deadlock.
  TempDir t;
  fs::path out = t / "out", err = t / "err";
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int n = ::open("/dev/null", O_RDONLY);
    ::dup2(n, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    // Nothing else leaks into the child (mmdebstrap's apt fails when fds 3-5
    // are already taken).
    ::close_range(3, ~0U, 0);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) _exit(126);
    for (const auto& kv : env) ::putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

RunResult run_mkguest(const std::vector<std::string>& args, const std::vector<std::string>& env,
                      const fs::path& cwd) {
  std::vector<std::string> argv{MKGUEST_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, env, cwd);
}

bool have_tool(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (!dir.empty() && ::access((fs::path(dir) / name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

fs::path source_dir() { return MKGUEST_SOURCE_DIR; }

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << text;
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string sha256_file(const fs::path& p) {
  MappedFile m(p);
  return to_hex(digest(HashAlg::kSha256, m.bytes()));
}

}  // namespace mkguest::test
