// Helpers shared by the tests: scratch directories, running the CLI and
// external reference tools, and small file utilities.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mkguest::test {

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv (no shell) with optional extra environment "K=V" entries and a
// working directory; captures stdout and stderr.
RunResult run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
              const std::filesystem::path& cwd = {});
// Runs the mkguest binary built alongside the tests.
RunResult run_mkguest(const std::vector<std::string>& args,
                      const std::vector<std::string>& env = {},
                      const std::filesystem::path& cwd = {});
// Whether an executable is on PATH.
bool have_tool(const std::string& name);

// A test whose prerequisite (a reference tool, a fetched input) is missing.
// `reason` says what is missing and names the step that provides it
// ("run scripts/fetch-debian-inputs"). Run by hand, the test is skipped
// with a warning and counted (skipped_tests(), printed after the run). In CI
// (the environment variable CI is set, and not "false" or "0") it fails
// instead: CI installs every prerequisite, so a skip there hides a test
// that silently did not run. The caller returns after it.
void skip_or_fail(const std::string& reason);
// A skip that stays a warning in CI too (an expected, external condition,
// such as Debian having published newer packages than a golden's).
void skip_with_warning(const std::string& reason);
// Whether the tests run in CI (see skip_or_fail).
bool in_ci();
// The reasons of the skips so far, in order.
const std::vector<std::string>& skipped_tests();

std::filesystem::path source_dir();
void write_text(const std::filesystem::path& p, const std::string& text);
std::string read_text(const std::filesystem::path& p);
std::string sha256_file(const std::filesystem::path& p);

}  // namespace mkguest::test
