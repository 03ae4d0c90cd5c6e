#include "recipes/diagnostics.h"

#include <algorithm>

namespace mkguest::recipe {

InputError error_at(const SourceSet& sources, const Mark& mark, const std::string& message) {
  std::string detail;
  if (mark.line > 0) {
    std::string text = sources.line(mark.file, mark.line);
    if (!text.empty()) {
      // A very long line (a generated or hostile recipe) is shown as a
      // window of kWindow bytes around the column, marked with "...".
      constexpr int kWindow = 120;
      int col = std::max(mark.col, 1);
      std::string lead;
      if (static_cast<int>(text.size()) > kWindow) {
        const int from = std::clamp(col - 1 - kWindow / 2, 0, static_cast<int>(text.size()));
        const bool cut_end = static_cast<int>(text.size()) - from > kWindow;
        text = text.substr(static_cast<std::size_t>(from), kWindow) + (cut_end ? "..." : "");
        if (from > 0) {
          lead = "...";
          col -= from;
        }
      }
      std::string caret(lead.size(), ' ');
      // Keep tabs so the caret lines up under the same column.
      for (int i = 1; i < col && i - 1 < static_cast<int>(text.size()); ++i) {
        caret += text[i - 1] == '\t' ? '\t' : ' ';
      }
      detail = "  " + lead + text + "\n  " + caret + "^";
    }
  }
  return InputError(mark.file, mark.place(), message, detail);
}

namespace {
// Optimal string alignment distance: insertions, deletions, substitutions
// and adjacent transpositions ("nmae" -> "name") each cost 1.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
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
  std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  if (best.empty() || best_d > limit) return "";
  return " (did you mean '" + best + "'?)";
}

}  // namespace mkguest::recipe
