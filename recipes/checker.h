// Typed reading of recipe nodes with exact error messages. A MapView records
// which keys the recipe language knows for that mapping, so that done() can
// reject anything else with a "did you mean" suggestion.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "recipes/diagnostics.h"
#include "recipes/recipe.h"

namespace mkguest::recipe {

class Checker {
 public:
  Checker(const SourceSet& sources, std::filesystem::path top_dir)
      : sources_(sources), top_dir_(std::move(top_dir)) {}

  [[noreturn]] void fail(const Mark& mark, const std::string& message) const;

  std::string string(const Node& n, const std::string& key) const;
  std::int64_t integer(const Node& n, const std::string& key, std::int64_t min,
                       std::int64_t max) const;
  std::uint32_t u32(const Node& n, const std::string& key) const {
    return static_cast<std::uint32_t>(integer(n, key, 0, 0xffffffffll));
  }
  bool boolean(const Node& n, const std::string& key) const;
  // An octal permission such as "0755" (setuid/setgid/sticky allowed).
  std::uint32_t mode(const Node& n, const std::string& key) const;
  // One of `choices`.
  std::string choice(const Node& n, const std::string& key,
                     const std::vector<std::string>& choices) const;
  // A file or directory on the host, relative to the file that names it.
  PathRef path(const Node& n, const std::string& key, bool directory = false) const;
  // A path inside the image, canonicalised; `allow_root` permits "/".
  std::string image_path(const Node& n, const std::string& key, bool allow_root = false) const;
  const std::vector<Node>& list(const Node& n, const std::string& key) const;

  const SourceSet& sources() const { return sources_; }

 private:
  const SourceSet& sources_;
  std::filesystem::path top_dir_;
};

class MapView {
 public:
  MapView(const Checker& c, const Node& n, std::string section);
  const Node* opt(const std::string& key);
  const Node& req(const std::string& key);
  // Keys the language reserves for later versions: an error if present.
  void reserved(const std::string& key, const std::string& what);
  // Rejects unknown keys. Call after every opt()/req().
  void done() const;
  const Node& node() const { return n_; }

 private:
  const Checker& c_;
  const Node& n_;
  std::string section_;
  std::vector<std::string> known_;
};

}  // namespace mkguest::recipe
