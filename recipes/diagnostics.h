// Recipe error messages: "recipe.yaml:12:5: error: ..." followed by the
// offending line and a caret under the column.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "recipes/node.h"

namespace mkguest::recipe {

// Builds an InputError at `mark`, quoting the line from `sources`.
InputError error_at(const SourceSet& sources, const Mark& mark, const std::string& message);

// " (did you mean 'x'?)" for the closest candidate, or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace mkguest::recipe
