// ${name} variables in recipe strings. `$$` is a literal '$'. Names are
// lower-case letters, digits, '_' and '.', e.g. ${verity.root_hash}.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mkguest::recipe {

struct VariableRef {
  std::string name;
  std::size_t offset = 0;  // of the '$' in the text
};

// Finds every ${...} in `text`. On a malformed reference sets *error_offset
// and *error and returns what was found before it.
std::vector<VariableRef> find_variables(const std::string& text, std::size_t* error_offset,
                                        std::string* error);

// Replaces each ${name} by lookup(name); lookup returns nullopt for an
// unknown name, which makes expand() throw std::out_of_range with the name.
std::string expand_variables(
    const std::string& text,
    const std::function<std::optional<std::string>(const std::string&)>& lookup);

}  // namespace mkguest::recipe
