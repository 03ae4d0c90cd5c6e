// Writing init-data (layout in initdata.h; docs/kata.md §1–2): the TOML text
// for an inline recipe mapping, and Kata's annotation value for any document.
// TOML basic strings: TOML 1.0.0 "String" (escapes \b \t \n \f \r \" \\ and
// \uXXXX; U+0000–U+001F and U+007F must be escaped, everything else may stand
// as UTF-8).
#include <cstdio>

#include "base/error.h"
#include "base/sink.h"
#include "builder/formats/initdata/initdata.h"

namespace mkguest::initdata {

namespace {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0, min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (n > s.size() - i - 1) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::string basic_string(std::string_view s, std::string_view what) {
  if (!valid_utf8(s)) throw ValueError("init-data " + std::string(what) + " is not UTF-8");
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string render(HashAlg algorithm,
                   const std::vector<std::pair<std::string, std::string>>& data) {
  if (algorithm == HashAlg::kSha1) throw ValueError("init-data cannot use sha1");
  for (std::size_t i = 0; i < data.size(); ++i) {
    for (std::size_t k = 0; k < i; ++k) {
      if (data[k].first == data[i].first) {
        throw ValueError("init-data key '" + data[i].first + "' given twice");
      }
    }
  }
  std::string out = "version = \"" + std::string(kVersion) + "\"\n";
  out += "algorithm = \"" + std::string(hash_name(algorithm)) + "\"\n\n[data]\n";
  for (const auto& [key, value] : data) {
    out += basic_string(key, "key '" + key + "'") + " = " +
           basic_string(value, "value of '" + key + "'") + "\n";
  }
  return out;
}

std::string annotation_value(std::span<const std::uint8_t> document) {
  MemorySink gz;
  auto z = make_compressor(Codec::kGzip, std::nullopt, gz);
  z->write(document);
  z->finish();
  return base64_encode(gz.bytes());
}

}  // namespace mkguest::initdata
