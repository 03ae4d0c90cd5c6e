// Fuzz target: recipe text -> typed recipe. Any input must either load or
// throw a mkguest Error; nothing else (crash, other exception, hang).
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/error.h"
#include "recipes/recipe.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  mkguest::recipe::LoadOptions opt;
  opt.cwd = "/nonexistent-mkguest-fuzz";
  opt.overrides = {"seed=fuzz"};
  try {
    mkguest::recipe::parse_recipe(text, "fuzz.yaml", opt);
  } catch (const mkguest::Error&) {
  }
  return 0;
}
