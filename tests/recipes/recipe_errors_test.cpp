// Malformed recipes: each one gets an exact "file:line:col: error: ..." message.
#include <catch2/catch.hpp>
#include <filesystem>

#include "base/error.h"
#include "recipes/recipe.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

struct Case {
  const char* yaml;
  const char* message;  // the first line of the error
};

// Every case starts from this valid header unless it replaces it.
const char* kHead = "name: t\nkernel: vmlinuz\n";

std::string load_error(const test::TempDir& d, const std::string& yaml,
                       const std::vector<std::string>& overrides = {},
                       std::optional<std::string> env_sde = std::nullopt) {
  test::write_text(d / "recipe.yaml", yaml);
  recipe::LoadOptions opt;
  opt.cwd = d.path();
  opt.overrides = overrides;
  opt.env_source_date_epoch = env_sde;
  try {
    recipe::load_recipe("recipe.yaml", opt);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

void make_inputs(const test::TempDir& d) {
  test::write_text(d / "vmlinuz", "kernel");
  test::write_text(d / "init", "#!/bin/sh\n");
  test::write_text(d / "tree/a", "a");
}

}  // namespace

TEST_CASE("malformed recipes get exact messages", "[recipe]") {
  test::TempDir d;
  make_inputs(d);
  const Case cases[] = {
      {"name: t\nkernel: vmlinuz\nkernal: x\n",
       "recipe.yaml:3:1: error: unknown key 'kernal' in 'recipe' (did you mean 'kernel'?)"},
      {"kernel: vmlinuz\n", "recipe.yaml:1:1: error: missing required key 'name' in 'recipe'"},
      {"name: t\n",
       "recipe.yaml:1:1: error: missing required key 'kernel' in 'recipe' "
       "(outputs.direct needs a kernel)"},
      {"name: t\nkernel: nope\n", "recipe.yaml:2:9: error: no such file: 'nope'"},
      {"name: t\nkernel: tree\n", "recipe.yaml:2:9: error: 'tree' is not a regular file"},
      {"name: [a]\nkernel: vmlinuz\n",
       "recipe.yaml:1:7: error: 'name' must be a string, not a list"},
      {"name: a/b\nkernel: vmlinuz\n",
       "recipe.yaml:1:7: error: 'name' must be a non-empty string without '/'"},
      {"name: t\nkernel: vmlinuz\nsource_date_epoch: soon\n",
       "recipe.yaml:3:20: error: 'source_date_epoch' must be an integer, not 'soon'"},
      {"name: t\nkernel: vmlinuz\nsource_date_epoch: -5\n",
       "recipe.yaml:3:20: error: 'source_date_epoch' must be between 0 and 4294967295, not -5"},
      {"name: t\nkernel: vmlinuz\nsource_date_epoch: \"5\"\n",
       "recipe.yaml:3:20: error: 'source_date_epoch' must be an integer, not a quoted string"},
      {"name: t\nkernel: vmlinuz\nrecipe: 2\n",
       "recipe.yaml:3:9: error: 'recipe' must be between 1 and 1, not 2"},
      {"name: t\nkernel: vmlinuz\ncmdline: root=${verity.root_hash}\n",
       "recipe.yaml:3:15: error: undefined variable '${verity.root_hash}': nothing in this recipe "
       "defines it"},
      {"name: t\nkernel: vmlinuz\ncmdline: [a, \"b=${nmae}\"]\n",
       "recipe.yaml:3:17: error: undefined variable '${nmae}': nothing in this recipe defines it "
       "(did you mean 'name'?)"},
      {"name: t\nkernel: vmlinuz\ncmdline: a=${name\n",
       "recipe.yaml:3:12: error: cmdline: unterminated ${variable}"},
      {"name: t\nkernel: vmlinuz\ncmdline: cost=5$\n",
       "recipe.yaml:3:16: error: cmdline: '$' must start a ${variable} (write '$$' for a literal "
       "'$')"},
      {"name: t\nkernel: vmlinuz\ncmdline: x=${Bad}\n",
       "recipe.yaml:3:12: error: cmdline: bad variable name 'Bad' (use lower-case letters, digits, "
       "'_' and '.')"},
      {"name: t\nkernel: vmlinuz\ncmdline: {a: b}\n",
       "recipe.yaml:3:10: error: 'cmdline' must be a string, not a mapping"},
      {"name: t\nkernel: vmlinuz\ninitrd: [a]\n",
       "recipe.yaml:3:9: error: 'initrd' must be a mapping, not a list"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  compresion: gzip\n",
       "recipe.yaml:4:3: error: unknown key 'compresion' in 'initrd' (did you mean "
       "'compression'?)"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  compression: lz4\n",
       "recipe.yaml:4:16: error: 'compression' must be one of none, gzip, zstd, xz, not 'lz4'"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  compression: none\n  level: 3\n",
       "recipe.yaml:5:10: error: conflicting options: 'level' has no meaning with compression "
       "'none'"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  compression: gzip\n  level: 12\n",
       "recipe.yaml:5:10: error: 'level' must be between 1 and 9, not 12"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  files:\n    - {src: init, dst: /init, mode: 0999}\n",
       "recipe.yaml:5:37: error: 'mode' must be an octal permission such as '0755', not '0999'"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  files:\n    - {src: init, dst: /init, mode: 17777}\n",
       "recipe.yaml:5:37: error: 'mode' must be an octal permission such as '0755', not '17777'"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  files:\n    - {src: init}\n",
       "recipe.yaml:5:7: error: missing required key 'dst' in 'files'"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  files:\n    - {src: init, dst: /}\n",
       "recipe.yaml:5:24: error: 'dst' must name a path below '/'"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  files:\n    - {src: init, dst: ../../etc/x}\n",
       "recipe.yaml:5:24: error: 'dst' path '../../etc/x' escapes the image root or has a name "
       "over 255 bytes"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  files:\n    - {src: init, dst: /init}\n"
       "    - {src: init, dst: init}\n",
       "recipe.yaml:6:7: error: '/init' is already declared at recipe.yaml:5:7"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  files:\n    - {src: init, dst: /init, uid: -1}\n",
       "recipe.yaml:5:36: error: 'uid' must be between 0 and 4294967295, not -1"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  files: {src: init}\n",
       "recipe.yaml:4:10: error: 'files' must be a list, not a mapping"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  devices:\n    - {path: /dev/x, type: pipe, major: "
       "1, minor: 1}\n",
       "recipe.yaml:5:28: error: 'type' must be one of char, block, not 'pipe'"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  devices:\n    - {path: /dev/x, type: char, major: "
       "5000, minor: 1}\n",
       "recipe.yaml:5:41: error: 'major' must be between 0 and 4095, not 5000"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  symlinks:\n    - {path: /bin/sh, target: \"\"}\n",
       "recipe.yaml:5:31: error: 'target' must not be empty"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  trees:\n    - {src: init}\n",
       "recipe.yaml:5:13: error: 'init' is not a directory"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  trees:\n    - {src: tree, modes: keep}\n",
       "recipe.yaml:5:26: error: 'modes' must be one of normalize, preserve, not 'keep'"},
      {"name: t\nkernel: vmlinuz\noutputs:\n  direct: yes\n",
       "recipe.yaml:4:11: error: 'direct' must be true or false"},
      {"name: t\nkernel: vmlinuz\noutputs:\n  direct: false\n",
       "recipe.yaml:4:3: error: nothing to build: every output is disabled"},
      {"name: t\nkernel: vmlinuz\nmeasurments: {}\n",
       "recipe.yaml:3:1: error: unknown key 'measurments' in 'recipe' (did you mean "
       "'measurements'?)"},
      {"name: t\nkernel: vmlinuz\nname: u\n", "recipe.yaml:3:1: error: duplicate key 'name'"},
      {"name: t\nkernel: vmlinuz\n  bad: indent\n",
       "recipe.yaml:3:6: error: invalid YAML: illegal map value"},
      {"- just\n- a list\n",
       "recipe.yaml:1:1: error: a recipe must be a mapping of keys to values"},
      {"name: t\nkernel: vmlinuz\nextends: base.yaml\n",
       "recipe.yaml:3:10: error: no such recipe: 'base.yaml'"},
      {"name: t\nkernel: vmlinuz\nextends: recipe.yaml\n",
       "recipe.yaml:3:10: error: 'extends' cycle: 'recipe.yaml' is already being loaded"},
      {"name: t\nkernel: vmlinuz\ninitrd:\n  files:\n    - {src: init, dst: /init, owner: 0}\n",
       "recipe.yaml:5:31: error: unknown key 'owner' in 'files'"},
  };
  int n = 0;
  for (const auto& c : cases) {
    INFO("case " << n++ << ":\n" << c.yaml);
    CHECK(first_line(load_error(d, c.yaml)) == c.message);
  }
  CHECK(n >= 30);
}

TEST_CASE("errors quote the line and put a caret under the column", "[recipe]") {
  test::TempDir d;
  make_inputs(d);
  std::string err = load_error(d, "name: t\nkernel: vmlinuz\ninitrd:\n  compresion: gzip\n");
  CHECK(err ==
        "recipe.yaml:4:3: error: unknown key 'compresion' in 'initrd' (did you mean "
        "'compression'?)\n"
        "    compresion: gzip\n"
        "    ^");
}

TEST_CASE("overrides from --set and SOURCE_DATE_EPOCH are validated too", "[recipe]") {
  test::TempDir d;
  make_inputs(d);
  std::string ok = std::string(kHead);
  CHECK(load_error(d, ok, {"initrd.compression=brotli"}) ==
        "--set initrd.compression=brotli: error: 'compression' must be one of none, gzip, zstd, "
        "xz, not 'brotli'");
  CHECK(load_error(d, ok, {"nonsense"}) == "--set nonsense: error: expected KEY.PATH=VALUE");
  CHECK(load_error(d, ok, {"kernal=x"}) ==
        "--set kernal=x: error: unknown key 'kernal' in 'recipe' (did you mean 'kernel'?)");
  CHECK(load_error(d, ok, {}, "yesterday") ==
        "SOURCE_DATE_EPOCH: error: 'yesterday' is not a number of seconds between 0 and "
        "4294967295");
}

TEST_CASE("extends merges maps, replaces lists and resolves paths per file", "[recipe]") {
  test::TempDir d;
  make_inputs(d);
  test::write_text(d / "base/vmlinuz", "base kernel");
  test::write_text(d / "base/base.yaml",
                   "name: base\nkernel: vmlinuz\nseed: s1\ncmdline: [a, b]\n"
                   "initrd:\n  compression: zstd\n  level: 5\n");
  test::write_text(d / "recipe.yaml",
                   "extends: base/base.yaml\nname: child\ncmdline: [c]\ninitrd:\n  level: 7\n");
  recipe::LoadOptions opt;
  opt.cwd = d.path();
  opt.overrides = {"initrd.compression=gzip", "seed=from-cli"};
  opt.env_source_date_epoch = "1234";
  auto r = recipe::load_recipe("recipe.yaml", opt);
  CHECK(r.name == "child");
  CHECK(r.kernel.resolved == d / "base/vmlinuz");
  CHECK(r.kernel.display == "base/vmlinuz");
  REQUIRE(r.cmdline.size() == 1);
  CHECK(r.cmdline[0].text == "c");
  CHECK(r.initrd.compression == recipe::Compression::kGzip);
  CHECK(r.initrd.level == 7);
  CHECK(r.seed == "from-cli");
  CHECK(r.source_date_epoch == 1234);
  CHECK(r.source_date_origin == "environment");
  REQUIRE(r.bases.size() == 1);
  CHECK(r.bases[0].display == "base/base.yaml");
}
