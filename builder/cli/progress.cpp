// The live progress line (see progress.h, docs/performance.md "Progress").
#include "builder/cli/progress.h"

#include <cstdio>
#include <string>
#include <utility>

namespace mkguest::cli {

bool live_progress(ProgressWhen when, bool quiet, bool stderr_is_tty, const char* ci) {
  if (quiet || when == ProgressWhen::kNever) return false;
  if (when == ProgressWhen::kAlways) return true;
  const std::string c = ci ? ci : "";
  const bool in_ci = !c.empty() && c != "0" && c != "false";
  return stderr_is_tty && !in_ci;
}

std::string human_bytes(double bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(static_cast<std::uint64_t>(bytes)) + " B";
  int u = -1;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", bytes, kUnits[u]);
  return buf;
}

std::string render_progress_line(const std::string& step, std::uint64_t done, std::uint64_t total,
                                 double seconds) {
  char head[64];
  std::snprintf(head, sizeof head, "mkguest: %-14s", step.c_str());
  std::string line = head;
  line += " " + human_bytes(static_cast<double>(done));
  if (total) {
    line += " / " + human_bytes(static_cast<double>(total));
    const double pct = done >= total ? 100.0 : 100.0 * static_cast<double>(done) / total;
    line += "  " + std::to_string(static_cast<int>(pct)) + "%";
  }
  if (seconds > 0) line += "  " + human_bytes(static_cast<double>(done) / seconds) + "/s";
  return line;
}

LiveLine::LiveLine(Clock clock, Write write, LiveLineOptions options)
    : clock_(std::move(clock)), write_(std::move(write)), options_(options) {}

void LiveLine::begin(const std::string& step) {
  std::lock_guard<std::mutex> lock(mutex_);
  step_ = step;
  done_ = total_ = 0;
  start_ = last_draw_ = clock_();
  drawn_ = false;
}

void LiveLine::expect(std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  total_ += bytes;
}

void LiveLine::add(std::uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += bytes;
  const double now = clock_();
  if (!drawn_ ? now - start_ >= options_.delay : now - last_draw_ >= options_.interval) {
    draw_locked(now);
  }
}

void LiveLine::draw_locked(double now) {
  // '\r' returns to the line's start; ESC [ K clears what a longer line left.
  write_("\r" + render_progress_line(step_, done_, total_, now - start_) + "\x1b[K");
  drawn_ = true;
  last_draw_ = now;
}

void LiveLine::end() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (drawn_) write_("\r\x1b[K");
  drawn_ = false;
}

}  // namespace mkguest::cli
