#include "recipes/variables.h"

#include <stdexcept>

namespace mkguest::recipe {

namespace {
bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}
}  // namespace

std::vector<VariableRef> find_variables(const std::string& text, std::size_t* error_offset,
                                        std::string* error) {
  std::vector<VariableRef> refs;
  error->clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') continue;
    if (i + 1 < text.size() && text[i + 1] == '$') {
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      *error_offset = i;
      *error = "'$' must start a ${variable} (write '$$' for a literal '$')";
      return refs;
    }
    std::size_t close = text.find('}', i + 2);
    if (close == std::string::npos) {
      *error_offset = i;
      *error = "unterminated ${variable}";
      return refs;
    }
    std::string name = text.substr(i + 2, close - i - 2);
    bool ok = !name.empty();
    for (char c : name) ok = ok && name_char(c);
    if (!ok) {
      *error_offset = i;
      *error = "bad variable name '" + name + "' (use lower-case letters, digits, '_' and '.')";
      return refs;
    }
    refs.push_back(VariableRef{name, i});
    i = close;
  }
  return refs;
}

std::string expand_variables(
    const std::string& text,
    const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::size_t close = text.find('}', i);
    if (i + 1 >= text.size() || text[i + 1] != '{' || close == std::string::npos) {
      throw std::out_of_range("$");
    }
    std::string name = text.substr(i + 2, close - i - 2);
    auto v = lookup(name);
    if (!v) throw std::out_of_range(name);
    out += *v;
    i = close;
  }
  return out;
}

}  // namespace mkguest::recipe
