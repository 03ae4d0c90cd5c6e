// The strict init-data reader (layout in initdata.h; docs/kata.md §1). TOML is
// parsed by toml++ 3 (Debian libtomlplusplus-dev), compiled into this file
// alone (header-only mode) so that the fuzz build instruments it too. The
// checks are Kata's (kata-types InitData::validate and its serde types: a
// version string equal to 0.1.0, an algorithm among sha256/sha384/sha512, a
// data table of strings) plus two that Kata does not make: no top-level key
// other than those three, and no byte-order mark. Both would be hashed with
// the rest, so they are refused rather than carried into a binding.
#include <algorithm>
#include <string_view>

#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>

#include "base/error.h"
#include "builder/formats/initdata/initdata.h"

namespace mkguest::initdata {

namespace {

TextPlace place_of(const toml::source_region& r) {
  return {static_cast<std::uint32_t>(r.begin.line), static_cast<std::uint32_t>(r.begin.column)};
}

[[noreturn]] void fail_at(const std::string& source, const toml::source_region& r,
                          const std::string& message) {
  throw InputError(source, place_of(r).str(), message);
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

const std::string& need_string(const toml::node& n, const std::string& what,
                               const std::string& source) {
  const auto* s = n.as_string();
  if (!s) fail_at(source, n.source(), what + " must be a string, not " + type_name(n));
  return s->get();
}

// TOML 1.0 allows non-ASCII text only inside strings and comments. toml++
// 3.3 (Debian 12) reaches __builtin_unreachable() when it meets U+00A1..
// U+0499 where it looks for whitespace (is_non_ascii_horizontal_whitespace
// has no case for its first block; found by initdata_fuzz), so such bytes
// are refused here, at their line and column, before toml++ sees them. The
// scan follows TOML's four string forms and comments.
void refuse_bare_non_ascii(std::string_view t, const std::string& source) {
  std::uint32_t line = 1, col = 1;
  std::size_t i = 0;
  auto advance = [&](std::size_t n) {
    for (; n && i < t.size(); --n, ++i) {
      const auto b = static_cast<unsigned char>(t[i]);
      if (b == '\n') {
        ++line;
        col = 1;
      } else if ((b & 0xC0) != 0x80) {
        ++col;
      }
    }
  };
  auto at = [&](std::string_view d) { return t.substr(i, d.size()) == d; };
  while (i < t.size()) {
    const auto b = static_cast<unsigned char>(t[i]);
    if (b == '#') {
      while (i < t.size() && t[i] != '\n') advance(1);
    } else if (at("\"\"\"") || at("'''")) {
      const std::string_view close = t.substr(i, 3);
      const bool escapes = close[0] == '"';
      advance(3);
      while (i < t.size() && !at(close)) advance(escapes && t[i] == '\\' ? 2 : 1);
      advance(3);
      // Up to two quotes next to the closing delimiter belong to the string.
      for (int k = 0; k < 2 && i < t.size() && t[i] == close[0]; ++k) advance(1);
    } else if (b == '"' || b == '\'') {
      const char quote = t[i];
      advance(1);
      while (i < t.size() && t[i] != quote && t[i] != '\n')
        advance(quote == '"' && t[i] == '\\' ? 2 : 1);
      if (i < t.size() && t[i] == quote) advance(1);
    } else if (b >= 0x80) {
      throw InputError(source, std::to_string(line) + ":" + std::to_string(col),
                       "TOML: a non-ASCII character outside a string or comment");
    } else {
      advance(1);
    }
  }
}

}  // namespace

Document parse(std::span<const std::uint8_t> bytes, const std::string& source) {
  if (bytes.size() >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF) {
    throw offset_error(source, 0,
                       "a byte-order mark: init-data is hashed as written, write it "
                       "without one");
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  refuse_bare_non_ascii(text, source);
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    fail_at(source, e.source(), "TOML: " + std::string(e.description()));
  }
  Document doc;
  const toml::node* version = nullptr;
  const toml::node* algorithm = nullptr;
  const toml::table* data = nullptr;
  for (auto&& [key, value] : root) {
    const std::string name(key.str());
    if (name == "version") {
      version = &value;
    } else if (name == "algorithm") {
      algorithm = &value;
    } else if (name == "data") {
      data = value.as_table();
      if (!data)
        fail_at(source, value.source(),
                std::string("'data' must be a table, not ") + type_name(value));
    } else {
      fail_at(source, key.source(),
              "unknown key '" + name + "': init-data " + std::string(kVersion) +
                  " has only version, algorithm and data");
    }
  }
  if (!version) throw file_error(source, "missing key 'version' (\"0.1.0\")");
  if (!algorithm) throw file_error(source, "missing key 'algorithm' (sha256, sha384 or sha512)");
  if (!data) throw file_error(source, "missing table 'data'");

  doc.version = need_string(*version, "'version'", source);
  if (doc.version != kVersion) {
    fail_at(source, version->source(),
            "unsupported version '" + doc.version + "', expected " + std::string(kVersion));
  }
  const std::string& alg = need_string(*algorithm, "'algorithm'", source);
  // Kata's SUPPORTED_ALGORITHMS; sha1 is in base's table but not allowed here.
  if (alg == "sha256")
    doc.algorithm = HashAlg::kSha256;
  else if (alg == "sha384")
    doc.algorithm = HashAlg::kSha384;
  else if (alg == "sha512")
    doc.algorithm = HashAlg::kSha512;
  else
    fail_at(source, algorithm->source(),
            "unsupported algorithm '" + alg + "', expected sha256, sha384 or sha512");
  doc.algorithm_place = place_of(algorithm->source());

  for (auto&& [key, value] : *data) {
    const std::string name(key.str());
    doc.data.emplace_back(name, need_string(value, "data value '" + name + "'", source));
  }
  // toml++ iterates a table in key order; the text's order is what a reader
  // of the document expects to see.
  std::stable_sort(doc.data.begin(), doc.data.end(), [&](const auto& a, const auto& b) {
    const auto* na = data->get(a.first);
    const auto* nb = data->get(b.first);
    const auto pa = na->source().begin, pb = nb->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  doc.bytes.assign(bytes.begin(), bytes.end());
  return doc;
}

}  // namespace mkguest::initdata
