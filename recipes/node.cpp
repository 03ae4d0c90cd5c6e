#include "recipes/node.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

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
      throw error_at(
          sources, out.mark,
          "nesting too deep: a recipe may nest at most " + std::to_string(kMaxDepth) + " levels");
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

namespace {

// The place of the first byte of `text` that is not UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), if any. Columns
// count bytes, as yaml-cpp's marks do.
std::optional<std::pair<Mark, unsigned>> first_non_utf8(const std::string& text,
                                                        const std::string& display) {
  int line = 1, col = 1;
  const auto* b = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned c = b[i];
    std::size_t len = c < 0x80             ? 1
                      : (c & 0xe0) == 0xc0 ? 2
                      : (c & 0xf0) == 0xe0 ? 3
                      : (c & 0xf8) == 0xf0 ? 4
                                           : 0;
    bool ok = len != 0 && len <= n - i;
    for (std::size_t k = 1; ok && k < len; ++k) ok = (b[i + k] & 0xc0) == 0x80;
    if (ok && len == 2) ok = c >= 0xc2;
    if (ok && len == 3) {
      const unsigned cp = (c & 0x0f) << 12 | (b[i + 1] & 0x3f) << 6 | (b[i + 2] & 0x3f);
      ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
    }
    if (ok && len == 4) {
      const unsigned cp =
          (c & 0x07) << 18 | (b[i + 1] & 0x3f) << 12 | (b[i + 2] & 0x3f) << 6 | (b[i + 3] & 0x3f);
      ok = cp >= 0x10000 && cp <= 0x10ffff;
    }
    if (!ok) return std::make_pair(Mark{display, line, col}, c);
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      col += static_cast<int>(len);
    }
    i += len;
  }
  return std::nullopt;
}

// The line of the document marker ("---" or "...") that ends the recipe's
// first document, for an error on anything after it.
Mark second_document(const std::string& text, const std::string& display) {
  int line = 1;
  bool content = false;
  for (std::size_t pos = 0; pos < text.size(); ++line) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view l(text.data() + pos, end - pos);
    const bool marker = (l.substr(0, 3) == "---" || l.substr(0, 3) == "...") &&
                        (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
    if (marker && (content || l.substr(0, 3) == "...")) return Mark{display, line, 1};
    const std::size_t first = l.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && l[first] != '#' && !marker) content = true;
    pos = end + 1;
  }
  return Mark{display, 1, 1};
}

// Counts a YAML stream's documents without building them, and notes where
// each one starts.
class DocumentCounter : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& m) override { starts.push_back(m); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

enum class Documents { kOne, kMore, kStuck };

// How many documents `text` holds, reading at most two. YAML::LoadAll is not
// used: on some invalid streams (a leading ',', say) yaml-cpp 0.7 reports an
// empty document without consuming input, and LoadAll then loops forever,
// allocating. A second document that starts where the first one did is that
// state: the text is not YAML the parser can read. Throws YAML::Exception.
Documents count_documents(const std::string& text, YAML::Mark* where) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  if (!parser.HandleNextDocument(counter)) return Documents::kOne;  // empty stream
  if (!parser.HandleNextDocument(counter)) return Documents::kOne;
  *where = counter.starts.front();
  if (counter.starts.size() >= 2 && counter.starts[1].pos == counter.starts[0].pos) {
    return Documents::kStuck;
  }
  return Documents::kMore;
}

}  // namespace

Node parse_yaml(const std::string& text, const std::string& display,
                const std::filesystem::path& base_dir, const SourceSet& sources) {
  // YAML is Unicode text; a recipe's bytes must be UTF-8 (its strings reach
  // the manifest, which is JSON). File names are written in UTF-8 too.
  if (auto bad = first_non_utf8(text, display)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", bad->second);
    throw error_at(sources, bad->first,
                   std::string("the recipe is not UTF-8 text (byte ") + hex + ")");
  }
  YAML::Node doc;
  try {
    YAML::Mark where;
    switch (count_documents(text, &where)) {
      case Documents::kOne:
        break;
      case Documents::kMore:
        throw error_at(sources, second_document(text, display),
                       "a recipe is one YAML document: nothing may follow a document marker "
                       "('---' or '...')");
      case Documents::kStuck:
        throw error_at(sources, Mark{display, where.line + 1, where.column + 1},
                       "invalid YAML: the text cannot be read as a YAML document");
    }
    doc = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    Mark m{display, e.mark.line + 1, e.mark.column + 1};
    throw error_at(
        sources, m,
        "nesting too deep: a recipe may nest at most " + std::to_string(kMaxDepth) + " levels");
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
  if (auto bad = first_non_utf8(text, display)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", bad->second);
    throw InputError(display, "", std::string("the value is not UTF-8 text (byte ") + hex + ")");
  }
  YAML::Node doc;
  SourceSet none;
  try {
    YAML::Mark where;
    switch (count_documents(text, &where)) {
      case Documents::kOne:
        break;
      case Documents::kMore:
        throw InputError(display, "", "invalid value: more than one YAML document");
      case Documents::kStuck:
        throw InputError(display, "", "invalid value: not readable as a YAML document");
    }
    doc = YAML::Load(text);
  } catch (const YAML::DeepRecursion&) {
    throw InputError(display, "", "invalid value: nesting too deep");
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
