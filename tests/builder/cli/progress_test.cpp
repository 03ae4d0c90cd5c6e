// The live progress line (builder/cli/progress.h): when it is drawn, what it
// says, and the control characters it writes, with a fake clock and a
// captured output. The expected strings are written out by hand from the
// documented format (docs/performance.md, "Progress"): 1 MiB = 1048576 bytes.
#include "builder/cli/progress.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/file.h"
#include "tests/test_util.h"
#include "tests/verity_test_util.h"

using namespace mkguest::cli;
namespace test = mkguest::test;
namespace fs = std::filesystem;

namespace {

struct Fake {
  double now = 100.0;
  std::vector<std::string> writes;
  LiveLine line(LiveLineOptions o = {}) {
    return LiveLine([this] { return now; }, [this](std::string_view s) { writes.emplace_back(s); },
                    o);
  }
};

// A recipe whose "rootfs + verity" step reports 2 x 8 MiB (tree, copy: the raw
// image was mapped and hashed with the inputs, by the build plan).
void make_rootfs_recipe(const fs::path& dir) {
  mkguest::write_file(dir / "rootfs.img", test::pattern_data(8 << 20, 5));
  test::write_text(dir / "vmlinuz", "kernel");
  test::write_text(dir / "recipe.yaml",
                   "name: p\nsource_date_epoch: 1\nkernel: vmlinuz\ncmdline: ro\n"
                   "rootfs:\n  format: raw\n  source: rootfs.img\n  verity:\n    hash: sha256\n");
}

bool has_control(const std::string& s) {
  return s.find('\r') != std::string::npos || s.find('\x1b') != std::string::npos;
}

// Runs mkguest with its stderr on a pseudo-terminal in raw mode (no "\n" to
// "\r\n" translation); prints what the terminal received on stdout. CI is
// unset unless `ci` is given.
const char* const kPtyScript = R"(import os, subprocess, sys, tty
exe, cwd, ci = sys.argv[1], sys.argv[2], sys.argv[3]
m, s = os.openpty()
tty.setraw(s)
env = {k: v for k, v in os.environ.items() if k != "CI"}
if ci:
    env["CI"] = ci
p = subprocess.Popen([exe] + sys.argv[4:], cwd=cwd, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=s, env=env)
os.close(s)
out = b""
while True:
    try:
        chunk = os.read(m, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.buffer.write(out)
sys.exit(p.wait())
)";

test::RunResult on_pty(const fs::path& dir, const std::string& ci,
                       const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/python3", "-c",         kPtyScript,
                                MKGUEST_BINARY,     dir.string(), ci};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::run(argv);
}

}  // namespace

TEST_CASE("progress: the line shows bytes done of total, the share and the rate",
          "[cli][progress]") {
  CHECK(render_progress_line("rootfs + verity", 512ull << 20, 3ull << 29, 6.0) ==
        "mkguest: rootfs + verity 512.0 MiB / 1.5 GiB  33%  85.3 MiB/s");
  CHECK(render_progress_line("rootfs", 100, 0, 0) == "mkguest: rootfs         100 B");
  CHECK(render_progress_line("rootfs", 3ull << 30, 3ull << 30, 2.0) ==
        "mkguest: rootfs         3.0 GiB / 3.0 GiB  100%  1.5 GiB/s");
  CHECK(human_bytes(1023) == "1023 B");
  CHECK(human_bytes(1024) == "1.0 KiB");
  CHECK(human_bytes(1536.0 * 1024 * 1024) == "1.5 GiB");
}

TEST_CASE("progress: no line before the delay, then redrawn in place, cleared at the end",
          "[cli][progress]") {
  Fake f;
  LiveLine l = f.line();
  l.begin("rootfs");
  l.expect(4 << 20);
  f.now += 0.5;
  l.add(1 << 20);  // 0.5 s: under the 1 s delay
  CHECK(f.writes.empty());
  f.now += 0.5;
  l.add(1 << 20);  // 1.0 s: drawn
  REQUIRE(f.writes.size() == 1);
  CHECK(f.writes[0] == "\rmkguest: rootfs         2.0 MiB / 4.0 MiB  50%  2.0 MiB/s\x1b[K");
  f.now += 0.0625;
  l.add(1 << 20);  // within the 0.1 s redraw interval: not drawn
  CHECK(f.writes.size() == 1);
  f.now += 0.0625;
  l.add(1 << 20);
  REQUIRE(f.writes.size() == 2);
  CHECK(f.writes[1] == "\rmkguest: rootfs         4.0 MiB / 4.0 MiB  100%  3.6 MiB/s\x1b[K");
  l.end();
  REQUIRE(f.writes.size() == 3);
  CHECK(f.writes[2] == "\r\x1b[K");
  // The next step starts from nothing and its own clock.
  l.begin("se");
  f.now += 0.2;
  l.add(10);
  l.end();
  CHECK(f.writes.size() == 3);
}

TEST_CASE("progress: a step that ends within the delay writes nothing", "[cli][progress]") {
  Fake f;
  LiveLine l = f.line();
  l.begin("initrd");
  l.expect(100);
  f.now += 0.9;
  l.add(100);
  l.end();
  CHECK(f.writes.empty());
}

TEST_CASE("progress: with no delay the first byte draws the line", "[cli][progress]") {
  Fake f;
  LiveLine l = f.line({0.0, 0.1});
  l.begin("rootfs");
  l.expect(2048);
  l.add(1024);  // no time has passed: no rate
  REQUIRE(f.writes.size() == 1);
  CHECK(f.writes[0] == "\rmkguest: rootfs         1.0 KiB / 2.0 KiB  50%\x1b[K");
}

TEST_CASE("progress: drawn on a terminal outside CI, or when asked, never with -q or --json",
          "[cli][progress]") {
  using W = ProgressWhen;
  CHECK(live_progress(W::kAuto, false, true, nullptr));
  CHECK(live_progress(W::kAuto, false, true, ""));
  CHECK(live_progress(W::kAuto, false, true, "false"));
  CHECK(live_progress(W::kAuto, false, true, "0"));
  CHECK_FALSE(live_progress(W::kAuto, false, true, "true"));
  CHECK_FALSE(live_progress(W::kAuto, false, false, nullptr));
  CHECK_FALSE(live_progress(W::kAuto, true, true, nullptr));
  CHECK(live_progress(W::kAlways, false, false, "true"));
  CHECK_FALSE(live_progress(W::kAlways, true, true, nullptr));
  CHECK_FALSE(live_progress(W::kNever, false, true, nullptr));
}

TEST_CASE("build: stderr that is not a terminal gets no control characters", "[cli][progress]") {
  test::TempDir d;
  make_rootfs_recipe(d.path());
  // CI unset (empty): only the pipe keeps the line away.
  auto r = test::run_mkguest({"build", "recipe.yaml", "-o", "out"}, {"CI="}, d.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("mkguest: rootfs + verity") != std::string::npos);
  CHECK_FALSE(has_control(r.err));
  // --json and -q keep stderr plain even when the line is asked for.
  for (const char* flag : {"--json", "-q"}) {
    auto q = test::run_mkguest({"build", flag, "--progress=always", "recipe.yaml", "-o", "out"},
                               {"CI="}, d.path());
    INFO(flag << ": " << q.err);
    REQUIRE(q.exit_code == 0);
    CHECK_FALSE(has_control(q.err));
  }
  // The same build asked for the line draws it into the pipe: the step does
  // report its bytes.
  auto a = test::run_mkguest({"build", "--progress=always", "recipe.yaml", "-o", "out"}, {"CI="},
                             d.path());
  REQUIRE(a.exit_code == 0);
  CHECK(a.err.find("\rmkguest: rootfs + verity") != std::string::npos);
  CHECK(
      test::run_mkguest({"build", "--progress=sometimes", "recipe.yaml"}, {}, d.path()).exit_code ==
      1);
}

TEST_CASE("build: on a terminal the progress line is drawn and cleared", "[cli][progress]") {
  // A chroot without devpts has no pseudo-terminal to run the build on.
  if (test::run({"/usr/bin/python3", "-c", "import os; os.openpty()"}).exit_code != 0) {
    test::skip_or_fail("no pseudo-terminal here (is /dev/pts mounted?)");
    return;
  }
  test::TempDir d;
  make_rootfs_recipe(d.path());
  auto r = on_pty(d.path(), "", {"build", "--progress=always", "recipe.yaml", "-o", "out"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  // Bytes done of the step's total (2 passes over 8 MiB), redrawn in place.
  const std::string first = "\rmkguest: rootfs + verity ";
  const auto at = r.out.find(first);
  REQUIRE(at != std::string::npos);
  const std::string line = r.out.substr(at + 1, r.out.find('\x1b', at) - at - 1);
  CHECK(line.find(" / 16.0 MiB  ") != std::string::npos);
  CHECK(line.find("/s") != std::string::npos);
  // The last drawing is cleared before the step's summary line.
  const auto done = r.out.find("mkguest: rootfs + verity", r.out.rfind("\r\x1b[K"));
  CHECK(done == r.out.rfind("\r\x1b[K") + 4);
  CHECK(r.out.find("\rmkguest:", done) == std::string::npos);
  // In CI (CI=true) a terminal gets the plain step lines only.
  auto ci = on_pty(d.path(), "true", {"build", "recipe.yaml", "-o", "out"});
  REQUIRE(ci.exit_code == 0);
  CHECK(ci.out.find("mkguest: rootfs + verity") != std::string::npos);
  CHECK_FALSE(has_control(ci.out));
}
