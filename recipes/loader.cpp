// Recipe loading: read the file and its `extends` chain, merge, apply --set
// overrides, then read the typed recipe with exact diagnostics.
#include <algorithm>
#include <charconv>
#include <set>

#include "base/file.h"
#include "recipes/checker.h"
#include "recipes/variables.h"

namespace mkguest::recipe {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxExtendsDepth = 16;
constexpr std::size_t kMaxRecipeBytes = 1 << 20;

struct Loader {
  SourceSet& sources;
  std::vector<PathRef>& bases;
  std::set<fs::path> chain;

  Node load(const fs::path& resolved, const std::string& display, int depth, const Mark* from) {
    return parse(read(resolved, display, from), resolved, display, depth);
  }

  std::string read(const fs::path& resolved, const std::string& display, const Mark* from) {
    std::string text;
    try {
      auto size = fs::file_size(resolved);
      if (size > kMaxRecipeBytes) {
        throw file_error(display,
                         "recipe larger than " + std::to_string(kMaxRecipeBytes) + " bytes");
      }
      text = read_text_file(resolved);
    } catch (const fs::filesystem_error& e) {
      if (from)
        throw error_at(sources, *from, "cannot read '" + display + "': " + e.code().message());
      throw file_error(display, "cannot read recipe: " + e.code().message());
    } catch (const InputError& e) {
      if (from) throw error_at(sources, *from, "cannot read '" + display + "'");
      throw;
    }
    return text;
  }

  Node parse(const std::string& text, const fs::path& resolved, const std::string& display,
             int depth) {
    if (text.size() > kMaxRecipeBytes) {
      throw file_error(display, "recipe larger than " + std::to_string(kMaxRecipeBytes) + " bytes");
    }
    sources.add(display, text);
    Node doc = parse_yaml(text, display, resolved.parent_path(), sources);
    const MapItem* ext = doc.item("extends");
    if (!ext) return doc;
    const Node& v = ext->value;
    if (!v.is_scalar() || v.scalar.empty()) {
      throw error_at(sources, v.mark, "'extends' must name a recipe file");
    }
    if (depth >= kMaxExtendsDepth) {
      throw error_at(
          sources, v.mark,
          "'extends' chain deeper than " + std::to_string(kMaxExtendsDepth) + " recipes");
    }
    fs::path base =
        (fs::path(v.scalar).is_absolute() ? fs::path(v.scalar) : resolved.parent_path() / v.scalar)
            .lexically_normal();
    std::error_code ec;
    fs::path key = fs::weakly_canonical(base, ec);
    if (!chain.insert(key).second) {
      throw error_at(sources, v.mark,
                     "'extends' cycle: '" + v.scalar + "' is already being loaded");
    }
    if (!fs::is_regular_file(base, ec)) {  // (the error_code form: a name may be too long)
      throw error_at(sources, v.mark, "no such recipe: '" + v.scalar + "'");
    }
    std::string base_display =
        (fs::path(display).parent_path() / v.scalar).lexically_normal().generic_string();
    bases.push_back(PathRef{base, base_display, v.mark});
    Node merged = load(base, base_display, depth + 1, &v.mark);
    Node overlay = doc;
    overlay.map.erase(std::remove_if(overlay.map.begin(), overlay.map.end(),
                                     [](const MapItem& i) { return i.key == "extends"; }),
                      overlay.map.end());
    merge_into(merged, overlay);
    merged.mark = doc.mark;
    return merged;
  }
};

void apply_override(Node& root, const std::string& spec, const fs::path& cwd) {
  std::string display = "--set " + spec;
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError(display, "", "expected KEY.PATH=VALUE");
  }
  std::string keypath = spec.substr(0, eq);
  Node value = parse_override_value(spec.substr(eq + 1), display, cwd);
  Node* cur = &root;
  std::size_t i = 0;
  for (;;) {
    std::size_t dot = keypath.find('.', i);
    std::string key = keypath.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
    if (key.empty()) throw InputError(display, "", "empty key in '" + keypath + "'");
    if (!cur->is_map()) {
      if (!cur->is_null()) {
        throw InputError(display, "", "cannot set '" + key + "' inside " + cur->kind_name());
      }
      cur->kind = Node::Kind::kMap;
    }
    Node* next = cur->get(key);
    if (!next) {
      Node fresh;
      fresh.mark = Mark{display, 0, 0};
      fresh.base_dir = cwd;
      cur->map.push_back(MapItem{key, Mark{display, 0, 0}, fresh});
      next = &cur->map.back().value;
    }
    if (dot == std::string::npos) {
      *next = value;
      return;
    }
    cur = next;
    i = dot + 1;
  }
}

std::int64_t parse_epoch(const std::string& s, bool* ok) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  *ok = !s.empty() && ec == std::errc() && p == s.data() + s.size() && v >= 0 && v <= 0xffffffffll;
  return v;
}

}  // namespace

// Defined in recipes/initrd_spec.cpp.
InitrdSpec read_initrd(const Checker& c, const Node& n);
// Defined in recipes/uki_spec.cpp.
UkiSpec read_uki(const Checker& c, const Node& n);
SeSpec read_se(const Checker& c, const Node& n);
// Defined in recipes/rootfs_spec.cpp.
RootfsSpec read_rootfs(const Checker& c, const Node& n);
// Defined in recipes/measurements_spec.cpp.
MeasurementsSpec read_measurements(const Checker& c, const Node& n);
// Defined in recipes/exports_spec.cpp.
ExportsSpec read_exports(const Checker& c, const Node& n);
// Defined in recipes/initdata_spec.cpp.
InitdataSpec read_initdata(const Checker& c, const Node& n);
// Defined in recipes/igvm_spec.cpp.
IgvmSpec read_igvm(const Checker& c, const Node& n);
void resolve_igvm(const Checker& c, Recipe& r);

Recipe load_recipe(const fs::path& path, const LoadOptions& opt) {
  fs::path resolved = (path.is_absolute() ? path : opt.cwd / path).lexically_normal();
  std::string display = path.generic_string();
  SourceSet scratch;
  std::vector<PathRef> none;
  Loader reader{scratch, none, {}};
  return parse_recipe(reader.read(resolved, display, nullptr), path, opt);
}

Recipe parse_recipe(const std::string& text, const fs::path& path, const LoadOptions& opt) {
  Recipe r;
  fs::path resolved = (path.is_absolute() ? path : opt.cwd / path).lexically_normal();
  std::string display = path.generic_string();
  Loader loader{r.sources, r.bases, {}};
  std::error_code ec;
  loader.chain.insert(fs::weakly_canonical(resolved, ec));
  r.tree = loader.parse(text, resolved, display, 0);
  r.file = PathRef{resolved, resolved.filename().generic_string(), Mark{display, 1, 1}};
  for (const auto& o : opt.overrides) apply_override(r.tree, o, opt.cwd);
  r.overrides = opt.overrides;

  Checker c(r.sources, resolved.parent_path());
  MapView top(c, r.tree, "recipe");
  if (const Node* v = top.opt("recipe")) c.integer(*v, "recipe", 1, 1);
  top.opt("extends");  // consumed by the loader
  r.name = c.string(top.req("name"), "name");
  if (r.name.empty() || r.name.find('/') != std::string::npos) {
    c.fail(top.req("name").mark, "'name' must be a non-empty string without '/'");
  }
  r.version = top.opt("version") ? c.string(*top.opt("version"), "version") : "0";
  if (const Node* v = top.opt("source_date_epoch")) {
    r.source_date_epoch = c.integer(*v, "source_date_epoch", 0, 0xffffffffll);
    r.source_date_origin = "recipe";
  } else {
    r.source_date_origin = "default";
  }
  if (opt.env_source_date_epoch) {
    bool ok = false;
    r.source_date_epoch = parse_epoch(*opt.env_source_date_epoch, &ok);
    if (!ok) {
      throw InputError("SOURCE_DATE_EPOCH", "",
                       "'" + *opt.env_source_date_epoch +
                           "' is not a number of seconds between 0 and 4294967295");
    }
    r.source_date_origin = "environment";
  }
  r.seed = top.opt("seed") ? c.string(*top.opt("seed"), "seed") : r.name + ":" + r.version;
  if (const Node* a = top.opt("arch")) r.arch = c.choice(*a, "arch", {"x86-64", "arm64", "s390x"});
  if (const Node* k = top.opt("kernel")) r.kernel = c.path(*k, "kernel");

  if (const Node* cl = top.opt("cmdline")) {
    if (cl->is_seq()) {
      for (const auto& item : cl->seq) {
        r.cmdline.push_back(CmdlinePart{c.string(item, "cmdline"), item.mark, item.quoted});
      }
    } else {
      r.cmdline.push_back(CmdlinePart{c.string(*cl, "cmdline"), cl->mark, cl->quoted});
    }
  }
  if (const Node* n = top.opt("initrd")) r.initrd = read_initrd(c, *n);

  if (const Node* o = top.opt("outputs")) {
    MapView out(c, *o, "outputs");
    if (const Node* d = out.opt("direct")) r.outputs.direct = c.boolean(*d, "direct");
    if (const Node* u = out.opt("uki")) r.outputs.uki = read_uki(c, *u);
    if (const Node* se = out.opt("se")) r.outputs.se = read_se(c, *se);
    if (const Node* ig = out.opt("igvm")) r.outputs.igvm = read_igvm(c, *ig);
    out.done();
  }
  if (const Node* n = top.opt("rootfs")) {
    r.rootfs = read_rootfs(c, *n);
    // verity.arch (GPT partition types) follows the recipe's arch unless set.
    const Node* v = n->is_map() ? n->get("verity") : nullptr;
    if (!(v && v->is_map() && v->get("arch"))) r.rootfs.verity.arch = r.arch;
  }
  if (const Node* n = top.opt("measurements")) r.measurements = read_measurements(c, *n);
  top.reserved("signing", "signing keys");
  if (const Node* n = top.opt("exports")) r.exports = read_exports(c, *n);
  if (const Node* n = top.opt("initdata")) r.initdata = read_initdata(c, *n);
  top.done();

  if (r.outputs.direct && r.kernel.resolved.empty()) {
    c.fail(r.tree.mark,
           "missing required key 'kernel' in 'recipe' (outputs.direct needs a kernel)");
  }
  if (r.outputs.uki.present && r.kernel.resolved.empty()) {
    c.fail(r.tree.mark, "missing required key 'kernel' in 'recipe' (outputs.uki needs a kernel)");
  }
  if (r.measurements.tpm.present && !r.outputs.uki.present) {
    const Node* m = r.tree.get("measurements");
    c.fail(m ? m->mark : r.tree.mark,
           "measurements.tpm predicts the PCRs of a UKI boot: it needs outputs.uki");
  }
  if (r.outputs.igvm.present) resolve_igvm(c, r);
  if (!r.outputs.direct && !r.outputs.uki.present) {
    const Node* o = r.tree.get("outputs");
    c.fail(o ? o->mark : r.tree.mark, "nothing to build: every output is disabled");
  }

  // Every ${variable} in the cmdline must be defined by something in the recipe.
  auto vars = defined_variables(r);
  std::vector<std::string> names;
  for (const auto& [k, _] : vars) names.push_back(k);
  for (const auto& part : r.cmdline) {
    std::size_t err_off = 0;
    std::string err;
    auto refs = find_variables(part.text, &err_off, &err);
    auto at = [&](std::size_t off) {
      Mark m = part.mark;
      if (m.line > 0 && part.text.find('\n') == std::string::npos) {
        m.col += static_cast<int>(off) + (part.quoted ? 1 : 0);
      }
      return m;
    };
    if (!err.empty()) c.fail(at(err_off), "cmdline: " + err);
    for (const auto& ref : refs) {
      if (!vars.count(ref.name)) {
        c.fail(at(ref.offset), "undefined variable '${" + ref.name +
                                   "}': nothing in this recipe defines it" +
                                   did_you_mean(ref.name, names));
      }
      // The cmdline is validated as it will be expanded: ${name} and
      // ${version} are the recipe's own text (the verity variables are hex).
      const std::string* value = ref.name == "name"      ? &r.name
                                 : ref.name == "version" ? &r.version
                                                         : nullptr;
      if (value && value->find_first_of(std::string("\n\r\0", 3)) != std::string::npos) {
        const Node* def = r.tree.get(ref.name);
        c.fail(at(ref.offset),
               "cmdline: '${" + ref.name +
                   "}' expands to a value with a newline, carriage return "
                   "or NUL byte" +
                   (def ? " (" + ref.name + " is set at " + def->mark.place() + ")" : ""));
      }
    }
    for (char ch : part.text) {
      if (ch == '\n' || ch == '\r' || ch == '\0') {
        c.fail(part.mark, "cmdline must not contain newlines or NUL bytes");
      }
    }
  }
  return r;
}

std::map<std::string, std::string> defined_variables(const Recipe& r) {
  std::map<std::string, std::string> v = {
      {"name", "the recipe's name"},
      {"version", "the recipe's version"},
  };
  if (r.rootfs.verity.present) {
    v.insert(verity_variables().begin(), verity_variables().end());
  }
  if (r.exports.kata.present || r.rootfs.verity.wiring == "kata") {
    v["kata.runtime_params"] =
        "the parameters Kata's Go runtime puts before kernel_params (docs/kata.md §9)";
  }
  return v;
}

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kXz:
      return "xz";
  }
  return "?";
}

}  // namespace mkguest::recipe
