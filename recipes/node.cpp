#include "recipes/node.h"

#include <yaml-cpp/yaml.h>

#include <set>

#include "recipes/diagnostics.h"

namespace mkguest::recipe {

namespace {
// A hostile recipe (e.g. nested aliases) must not expand without bound.
constexpr std::size_t kMaxNodes = 200000;
constexpr int kMaxDepth = 64;

struct Converter {
  const std::string& display;
  const std::filesystem::path& base_dir;
  const SourceSet& sources;
  std::size_t count = 0;

  Mark mark_of(const YAML::Node& n) const {
    auto m = n.Mark();
    return Mark{display, m.line + 1, m.column + 1};
  }

  Node convert(const YAML::Node& y, int depth) {
    Node out;
    out.mark = mark_of(y);
    out.base_dir = base_dir;
    if (++count > kMaxNodes) {
      throw error_at(sources, out.mark,
                     "the recipe has more than " + std::to_string(kMaxNodes) + " nodes");
    }
    if (depth > kMaxDepth) {
      throw error_at(sources, out.mark,
                     "the recipe nests deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    switch (y.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out.kind = Node::Kind::kNull;
        break;
      case YAML::NodeType::Scalar:
        out.kind = Node::Kind::kScalar;
        out.scalar = y.Scalar();
        out.quoted = y.Tag() == "!";
        break;
      case YAML::NodeType::Sequence:
        out.kind = Node::Kind::kSeq;
        for (const auto& item : y) out.seq.push_back(convert(item, depth + 1));
        break;
      case YAML::NodeType::Map: {
        out.kind = Node::Kind::kMap;
        std::set<std::string> seen;
        for (const auto& kv : y) {
          Mark km = mark_of(kv.first);
          if (!kv.first.IsScalar()) throw error_at(sources, km, "a key must be a plain string");
          std::string key = kv.first.Scalar();
          if (!seen.insert(key).second) {
            throw error_at(sources, km, "duplicate key '" + key + "'");
          }
          out.map.push_back(MapItem{key, km, convert(kv.second, depth + 1)});
        }
        break;
      }
    }
    return out;
  }
};
}  // namespace

std::string Mark::place() const {
  if (line <= 0) return "";
  return std::to_string(line) + ":" + std::to_string(col);
}

const MapItem* Node::item(const std::string& key) const {
  for (const auto& it : map) {
    if (it.key == key) return &it;
  }
  return nullptr;
}

const Node* Node::get(const std::string& key) const {
  const MapItem* it = item(key);
  return it ? &it->value : nullptr;
}

Node* Node::get(const std::string& key) {
  for (auto& it : map) {
    if (it.key == key) return &it.value;
  }
  return nullptr;
}

const char* Node::kind_name() const {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kScalar:
      return "a scalar";
    case Kind::kMap:
      return "a mapping";
    case Kind::kSeq:
      return "a list";
  }
  return "?";
}

std::string SourceSet::line(const std::string& file, int line) const {
  auto it = texts_.find(file);
  if (it == texts_.end() || line <= 0) return "";
  const std::string& t = it->second;
  std::size_t pos = 0;
  for (int i = 1; i < line; ++i) {
    pos = t.find('\n', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  std::size_t end = t.find('\n', pos);
  std::string s = t.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

Node parse_yaml(const std::string& text, const std::string& display,
                const std::filesystem::path& base_dir, const SourceSet& sources) {
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    Mark m{display, e.mark.line + 1, e.mark.column + 1};
    throw error_at(sources, m, "invalid YAML: " + e.msg);
  }
  Converter c{display, base_dir, sources};
  Node root = c.convert(doc, 0);
  if (root.is_null()) {
    root.kind = Node::Kind::kMap;
    root.mark = Mark{display, 1, 1};
  }
  if (!root.is_map()) {
    throw error_at(sources, root.mark, "a recipe must be a mapping of keys to values");
  }
  return root;
}

Node parse_override_value(const std::string& text, const std::string& display,
                          const std::filesystem::path& base_dir) {
  YAML::Node doc;
  SourceSet none;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(display, "", "invalid value: " + e.msg);
  }
  Converter c{display, base_dir, none};
  Node n = c.convert(doc, 0);
  std::vector<Node*> stack{&n};
  while (!stack.empty()) {  // overrides have no line numbers: name the override
    Node* cur = stack.back();
    stack.pop_back();
    cur->mark = Mark{display, 0, 0};
    for (auto& s : cur->seq) stack.push_back(&s);
    for (auto& m : cur->map) {
      m.key_mark = Mark{display, 0, 0};
      stack.push_back(&m.value);
    }
  }
  if (n.is_null() && text.empty()) {
    n.kind = Node::Kind::kScalar;  // "--set key=" sets the empty string
    n.quoted = true;
  }
  return n;
}

void merge_into(Node& base, const Node& overlay) {
  if (base.is_map() && overlay.is_map()) {
    for (const auto& it : overlay.map) {
      if (Node* b = base.get(it.key)) {
        merge_into(*b, it.value);
      } else {
        base.map.push_back(it);
      }
    }
    return;
  }
  base = overlay;
}

}  // namespace mkguest::recipe
