// Hostile recipes of the second hardening round (docs/security.md): a newline
// reaching the cmdline through a variable, bytes that are not UTF-8, a second
// YAML document, text yaml-cpp cannot read past, and nesting deep enough to exhaust the parser.
// Each is an input error with the file and the place, never an internal error.
#include <catch2/catch.hpp>
#include <filesystem>

#include "base/error.h"
#include "recipes/recipe.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

std::string load_error(const test::TempDir& d, const std::string& yaml,
                       const std::vector<std::string>& overrides = {}) {
  test::write_text(d / "recipe.yaml", yaml);
  recipe::LoadOptions opt;
  opt.cwd = d.path();
  opt.overrides = overrides;
  try {
    recipe::load_recipe("recipe.yaml", opt);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

TEST_CASE("a newline cannot reach the cmdline through a variable", "[recipe][hostile]") {
  test::TempDir d;
  test::write_text(d / "vmlinuz", "kernel");
  CHECK(first_line(load_error(d, "name: \"a\\nb\"\nkernel: vmlinuz\ncmdline: \"img=${name}\"\n")) ==
        "recipe.yaml:3:15: error: cmdline: '${name}' expands to a value with a newline, carriage "
        "return or NUL byte (name is set at 1:7)");
  CHECK(first_line(load_error(
            d,
            "name: a\nversion: \"1\\r\"\nkernel: vmlinuz\ncmdline: [quiet, \"v=${version}\"]\n")) ==
        "recipe.yaml:4:21: error: cmdline: '${version}' expands to a value with a newline, "
        "carriage return or NUL byte (version is set at 2:10)");
  // Through --set: the override is named.
  const std::string e =
      load_error(d, "name: a\nkernel: vmlinuz\ncmdline: \"img=${name}\"\n", {"name=\"x\\ny\""});
  CHECK_THAT(e, Catch::Contains("expands to a value with a newline"));
  // A name without control characters is fine.
  CHECK(load_error(d, "name: a-b\nkernel: vmlinuz\ncmdline: \"img=${name}\"\n") == "(no error)");
}

TEST_CASE("bytes that are not UTF-8 are an input error at their place", "[recipe][hostile]") {
  test::TempDir d;
  test::write_text(d / "vmlinuz", "kernel");
  CHECK(first_line(load_error(d, "name: \"t\xff\"\nkernel: vmlinuz\n")) ==
        "recipe.yaml:1:9: error: the recipe is not UTF-8 text (byte 0xff)");
  // A file name with a byte that is not UTF-8 cannot be written in a recipe.
  test::write_text(d / "k\xff", "kernel");
  CHECK(first_line(load_error(d, "name: t\nkernel: k\xff\n")) ==
        "recipe.yaml:2:10: error: the recipe is not UTF-8 text (byte 0xff)");
  // Overlong forms, surrogates and truncated sequences too.
  CHECK(first_line(load_error(d, "name: t\nkernel: vmlinuz\n# \xc0\xaf\n")) ==
        "recipe.yaml:3:3: error: the recipe is not UTF-8 text (byte 0xc0)");
  CHECK(first_line(load_error(d, "name: t\xed\xa0\x80\nkernel: vmlinuz\n")) ==
        "recipe.yaml:1:8: error: the recipe is not UTF-8 text (byte 0xed)");
  CHECK(first_line(load_error(d, "name: t\nkernel: vmlinuz\n# \xe2\x82")) ==
        "recipe.yaml:3:3: error: the recipe is not UTF-8 text (byte 0xe2)");
  // Valid multi-byte text is kept.
  CHECK(load_error(d, "name: t\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92\nkernel: vmlinuz\n") ==
        "(no error)");
  CHECK(first_line(load_error(d, "name: t\nkernel: vmlinuz\n", {"name=a\xfe"})) ==
        "--set name=a\xfe: error: the value is not UTF-8 text (byte 0xfe)");
}

TEST_CASE("nothing may follow a YAML document marker", "[recipe][hostile]") {
  test::TempDir d;
  test::write_text(d / "vmlinuz", "kernel");
  CHECK(first_line(load_error(d, "name: t\nkernel: vmlinuz\n---\nkernel: other\n")) ==
        "recipe.yaml:3:1: error: a recipe is one YAML document: nothing may follow a document "
        "marker ('---' or '...')");
  CHECK(first_line(load_error(d, "name: t\nkernel: vmlinuz\n...\n---\nname: u\n")) ==
        "recipe.yaml:3:1: error: a recipe is one YAML document: nothing may follow a document "
        "marker ('---' or '...')");
  // A leading '---' (and comments before it) start the one document.
  CHECK(load_error(d, "# a recipe\n---\nname: t\nkernel: vmlinuz\n") == "(no error)");
  CHECK(load_error(d, "---\nname: t\nkernel: vmlinuz\n...\n") == "(no error)");
  // A '---' inside a quoted or block value is text, not a marker.
  CHECK(load_error(d, "name: t\nkernel: vmlinuz\ncmdline: \"a --- b\"\n") == "(no error)");
}

// Found by recipe_fuzz (tests/corpus/recipe/regress-leading-comma.yaml): on a
// leading ',' yaml-cpp 0.7 reports an empty document without reading on, and
// YAML::LoadAll looped forever, allocating until the machine ran out of memory.
TEST_CASE("text the YAML parser cannot read past is an input error, not a hang",
          "[recipe][hostile]") {
  test::TempDir d;
  test::write_text(d / "vmlinuz", "kernel");
  CHECK(first_line(load_error(d, ",name: \"2\n")) ==
        "recipe.yaml:1:1: error: invalid YAML: the text cannot be read as a YAML document");
  CHECK(first_line(load_error(d, ",\n")) ==
        "recipe.yaml:1:1: error: invalid YAML: the text cannot be read as a YAML document");
  // After a document marker the same state is a second document.
  CHECK(first_line(load_error(d, "name: t\nkernel: vmlinuz\n...\n,x\n")) ==
        "recipe.yaml:3:1: error: a recipe is one YAML document: nothing may follow a document "
        "marker ('---' or '...')");
  // Through --set: the override is named.
  CHECK_THAT(load_error(d, "name: t\nkernel: vmlinuz\n", {"name=,x"}),
             Catch::Contains("not readable as a YAML document"));
}

TEST_CASE("deep nesting says so and gives the line", "[recipe][hostile]") {
  test::TempDir d;
  test::write_text(d / "vmlinuz", "kernel");
  for (const std::size_t depth : {100u, 3000u, 300000u}) {
    INFO(depth);
    const std::string yaml =
        "name: t\nkernel: vmlinuz\nx: " + std::string(depth, '[') + std::string(depth, ']') + "\n";
    const std::string e = load_error(d, yaml);
    CHECK_THAT(first_line(e), Catch::StartsWith("recipe.yaml:3:"));
    CHECK_THAT(first_line(e), Catch::Contains("nesting too deep"));
    // The offending line is shown as a window, not 600,000 bytes.
    CHECK(e.size() < 600);
  }
}
