#include "recipes/diagnostics.h"

#include <algorithm>

namespace mkguest::recipe {

InputError error_at(const SourceSet& sources, const Mark& mark, const std::string& message) {
  std::string detail;
  if (mark.line > 0) {
    std::string text = sources.line(mark.file, mark.line);
    if (!text.empty()) {
      std::string caret;
      // Keep tabs so the caret lines up under the same column.
      for (int i = 1; i < mark.col && i - 1 < static_cast<int>(text.size()); ++i) {
        caret += text[i - 1] == '\t' ? '\t' : ' ';
      }
      detail = "  " + text + "\n  " + caret + "^";
    }
  }
  return InputError(mark.file, mark.place(), message, detail);
}

namespace {
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  if (best.empty() || best_d > limit) return "";
  return " (did you mean '" + best + "'?)";
}

}  // namespace mkguest::recipe
