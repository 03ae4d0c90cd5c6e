#include "recipes/checker.h"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>

#include "base/error.h"
#include "base/fs_path.h"

namespace mkguest::recipe {

namespace fs = std::filesystem;

void Checker::fail(const Mark& mark, const std::string& message) const {
  throw error_at(sources_, mark, message);
}

std::string Checker::string(const Node& n, const std::string& key) const {
  if (!n.is_scalar()) fail(n.mark, "'" + key + "' must be a string, not " + n.kind_name());
  return n.scalar;
}

std::int64_t Checker::integer(const Node& n, const std::string& key, std::int64_t min,
                              std::int64_t max) const {
  if (!n.is_scalar() || n.quoted) {
    fail(n.mark, "'" + key + "' must be an integer, not " +
                     (n.quoted ? std::string("a quoted string") : n.kind_name()));
  }
  std::int64_t v = 0;
  const std::string& s = n.scalar;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    fail(n.mark, "'" + key + "' must be an integer, not '" + s + "'");
  }
  if (v < min || v > max) {
    fail(n.mark, "'" + key + "' must be between " + std::to_string(min) + " and " +
                     std::to_string(max) + ", not " + s);
  }
  return v;
}

bool Checker::boolean(const Node& n, const std::string& key) const {
  if (n.is_scalar() && !n.quoted && (n.scalar == "true" || n.scalar == "false")) {
    return n.scalar == "true";
  }
  fail(n.mark, "'" + key + "' must be true or false");
}

std::uint32_t Checker::mode(const Node& n, const std::string& key) const {
  std::string s = n.is_scalar() ? n.scalar : "";
  if (s.rfind("0o", 0) == 0) s = s.substr(2);
  bool ok = !s.empty() && s.size() <= 5;
  std::uint32_t v = 0;
  for (char ch : s) {
    ok = ok && ch >= '0' && ch <= '7';
    v = v * 8 + static_cast<std::uint32_t>(ch - '0');
  }
  if (!ok || v > 07777) {
    fail(n.mark, "'" + key + "' must be an octal permission such as '0755', not '" +
                     (n.is_scalar() ? n.scalar : n.kind_name()) + "'");
  }
  return v;
}

std::string Checker::choice(const Node& n, const std::string& key,
                            const std::vector<std::string>& choices) const {
  std::string s = string(n, key);
  if (std::find(choices.begin(), choices.end(), s) != choices.end()) return s;
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  fail(n.mark,
       "'" + key + "' must be one of " + list + ", not '" + s + "'" + did_you_mean(s, choices));
}

PathRef Checker::path(const Node& n, const std::string& key, bool directory) const {
  std::string s = string(n, key);
  if (s.empty()) fail(n.mark, "'" + key + "' must not be empty");
  fs::path p(s);
  fs::path resolved = (p.is_absolute() ? p : n.base_dir / p).lexically_normal();
  struct stat st {};
  if (::stat(resolved.c_str(), &st) != 0) fail(n.mark, "no such file: '" + s + "'");
  if (directory && !S_ISDIR(st.st_mode)) fail(n.mark, "'" + s + "' is not a directory");
  if (!directory && !S_ISREG(st.st_mode)) fail(n.mark, "'" + s + "' is not a regular file");
  PathRef r;
  r.resolved = resolved;
  r.display = resolved.lexically_relative(top_dir_).generic_string();
  if (r.display.empty()) r.display = resolved.generic_string();
  r.mark = n.mark;
  return r;
}

std::string Checker::image_path(const Node& n, const std::string& key, bool allow_root) const {
  std::string s = string(n, key);
  auto c = canonical_fs_path(s);
  if (!c)
    fail(n.mark,
         "'" + key + "' path '" + s + "' escapes the image root or has a name over 255 bytes");
  if (c->empty() && !allow_root) fail(n.mark, "'" + key + "' must name a path below '/'");
  return *c;
}

const std::vector<Node>& Checker::list(const Node& n, const std::string& key) const {
  if (!n.is_seq()) fail(n.mark, "'" + key + "' must be a list, not " + n.kind_name());
  return n.seq;
}

MapView::MapView(const Checker& c, const Node& n, std::string section)
    : c_(c), n_(n), section_(std::move(section)) {
  if (!n.is_map()) {
    c.fail(n.mark, "'" + section_ + "' must be a mapping, not " + n.kind_name());
  }
}

const Node* MapView::opt(const std::string& key) {
  known_.push_back(key);
  const Node* v = n_.get(key);
  return v && !v->is_null() ? v : nullptr;
}

const Node& MapView::req(const std::string& key) {
  const Node* v = opt(key);
  if (!v) {
    if (const MapItem* it = n_.item(key)) c_.fail(it->key_mark, "'" + key + "' needs a value");
    c_.fail(n_.mark, "missing required key '" + key + "' in '" + section_ + "'");
  }
  return *v;
}

void MapView::reserved(const std::string& key, const std::string& what) {
  known_.push_back(key);
  if (const MapItem* it = n_.item(key)) {
    c_.fail(it->key_mark, "'" + key + "' (" + what +
                              ") is reserved for a later version of the recipe language and not "
                              "supported by this mkguest");
  }
}

void MapView::done() const {
  for (const auto& it : n_.map) {
    if (std::find(known_.begin(), known_.end(), it.key) == known_.end()) {
      c_.fail(it.key_mark,
              "unknown key '" + it.key + "' in '" + section_ + "'" + did_you_mean(it.key, known_));
    }
  }
}

}  // namespace mkguest::recipe
