// The live progress line of `mkguest build` (docs/performance.md,
// "Progress"). The pipeline reports bytes (base/progress.h); this layer owns
// the terminal and the clock: it decides whether a line is drawn, renders it
// and redraws it in place with '\r', then clears it when the step ends. The
// clock and the output are passed in, so the rendering is tested with a fake
// clock (tests/builder/cli/progress_test.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace mkguest::cli {

// --progress=WHEN.
enum class ProgressWhen { kAuto, kAlways, kNever };

// Whether the live line is drawn. Never with -q or --json (`quiet`): stderr
// then gets no control characters. `always` draws even when stderr is not a
// terminal or CI is set; `auto` only on a terminal outside CI. `ci` is the
// value of the environment variable CI (nullptr: unset); "", "0" and "false"
// count as unset.
bool live_progress(ProgressWhen when, bool quiet, bool stderr_is_tty, const char* ci);

// "1.5 MiB": bytes in binary units, one decimal from KiB up.
std::string human_bytes(double bytes);

// One progress line, without control characters:
//   "mkguest: rootfs + verity   512.0 MiB / 1.5 GiB  33%  85.3 MiB/s"
// `total` 0 leaves out the total and the percentage; `seconds` <= 0 the rate.
std::string render_progress_line(const std::string& step, std::uint64_t done, std::uint64_t total,
                                 double seconds);

struct LiveLineOptions {
  double delay = 1.0;     // seconds into a step before the first draw
  double interval = 0.1;  // seconds between redraws
};

// The line of the current step. Thread-safe: the verity tree reports from
// its worker threads.
class LiveLine {
 public:
  using Clock = std::function<double()>;                // seconds, monotonic
  using Write = std::function<void(std::string_view)>;  // to the terminal
  LiveLine(Clock clock, Write write, LiveLineOptions options = {});

  void begin(const std::string& step);
  void expect(std::uint64_t bytes);
  void add(std::uint64_t bytes);
  // Clears the line if one was drawn.
  void end();

 private:
  void draw_locked(double now);

  Clock clock_;
  Write write_;
  LiveLineOptions options_;
  std::mutex mutex_;
  std::string step_;
  std::uint64_t done_ = 0;
  std::uint64_t total_ = 0;
  double start_ = 0;
  double last_draw_ = 0;
  bool drawn_ = false;
};

}  // namespace mkguest::cli
