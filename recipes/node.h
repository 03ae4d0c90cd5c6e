// The recipe document model: a YAML tree whose every node remembers where it
// came from (file, line, column, and the directory that relative paths in it
// are resolved against). `extends` merging and `--set` overrides work on this
// tree, before the typed recipe is read from it.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mkguest::recipe {

// A place in a recipe file: 1-based line and column. Command-line overrides
// have line 0 and name the override in `file`.
struct Mark {
  std::string file;
  int line = 0;
  int col = 0;
  std::string place() const;  // "12:5", or "" for line 0
};

struct Node;
struct MapItem;

struct Node {
  enum class Kind { kNull, kScalar, kMap, kSeq };
  Kind kind = Kind::kNull;
  std::string scalar;
  bool quoted = false;  // a quoted scalar: always a string
  std::vector<MapItem> map;
  std::vector<Node> seq;
  Mark mark;
  std::filesystem::path base_dir;  // relative paths in this node resolve here

  bool is_map() const { return kind == Kind::kMap; }
  bool is_seq() const { return kind == Kind::kSeq; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_null() const { return kind == Kind::kNull; }
  const Node* get(const std::string& key) const;
  Node* get(const std::string& key);
  const MapItem* item(const std::string& key) const;
  const char* kind_name() const;
};

struct MapItem {
  std::string key;
  Mark key_mark;
  Node value;
};

// Keeps the text of every file read, so errors can quote the offending line.
class SourceSet {
 public:
  void add(const std::string& file, std::string text) { texts_[file] = std::move(text); }
  // The line (without newline) or "" if unknown.
  std::string line(const std::string& file, int line) const;

 private:
  std::map<std::string, std::string> texts_;
};

// Parses YAML text into a Node tree. `display` names the file in errors.
// Throws InputError on syntax errors and duplicate keys.
Node parse_yaml(const std::string& text, const std::string& display,
                const std::filesystem::path& base_dir, const SourceSet& sources);

// Parses the value of a --set override (a YAML scalar or flow collection).
Node parse_override_value(const std::string& text, const std::string& display,
                          const std::filesystem::path& base_dir);

// Deep merge for `extends`: maps merge key by key (the overlay wins), anything
// else is replaced by the overlay.
void merge_into(Node& base, const Node& overlay);

}  // namespace mkguest::recipe
