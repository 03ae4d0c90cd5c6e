#include "builder/pipeline/pipeline.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/file.h"
#include "builder/attest/exports.h"
#include "builder/pipeline/initdata_stage.h"
#include "builder/pipeline/initrd.h"
#include "builder/pipeline/plan.h"
#include "builder/pipeline/rootfs_stage.h"
#include "builder/pipeline/se_stage.h"
#include "builder/pipeline/snp_stage.h"
#include "builder/pipeline/tdx_stage.h"
#include "builder/pipeline/uki_stage.h"
#include "recipes/variables.h"

namespace mkguest {

namespace fs = std::filesystem;

const Artifact& BuildContext::write_artifact(const std::string& role, const std::string& file,
                                             const std::function<void(ByteSink&)>& emit) {
  FileSink f(staging / file);
  DigestSink d(f);
  emit(d);
  Artifact a{role, file, d.size(), d.sha256(), d.sha384()};
  manifest.add_output(role, file, a.size, a.sha256, a.sha384);
  return artifacts[role] = a;
}

fs::path BuildContext::path_of(const std::string& role) const {
  auto it = artifacts.find(role);
  if (it == artifacts.end()) throw InternalError("no artifact with role '" + role + "'");
  return staging / it->second.file;
}

namespace {

class Step {
 public:
  Step(Progress& p, const std::string& name) : p_(p) { p_.begin(name); }
  ~Step() { p_.end(); }

 private:
  Progress& p_;
};

Bytes file_sha256(const fs::path& p) {
  MappedFile m(p);
  return digest(HashAlg::kSha256, m.bytes());
}

void add_file_input(BuildContext& ctx, const std::string& role, const recipe::PathRef& ref) {
  MappedFile m(ref.resolved);
  ctx.manifest.add_input(role, ref.display, m.size(), digest(HashAlg::kSha256, m.bytes()));
}

void add_tree_input(BuildContext& ctx, const recipe::InitrdTree& t) {
  TreeListing l = tree_listing(t);
  ctx.manifest.add_input("initrd-tree", t.src.display + "/", l.size, l.sha256);
}

void stage_inputs(BuildContext& ctx) {
  const auto& r = ctx.recipe;
  ctx.manifest.set_recipe(r.file.display, file_sha256(r.file.resolved), r.name, r.version,
                          r.overrides);
  for (const auto& b : r.bases) {
    recipe::PathRef ref = b;
    ref.display = b.resolved.lexically_relative(r.file.resolved.parent_path()).generic_string();
    add_file_input(ctx, "recipe-base", ref);
  }
  if (!r.kernel.resolved.empty()) add_file_input(ctx, "kernel", r.kernel);
  for (const auto& f : r.initrd.early) add_file_input(ctx, "initrd-early-file", f.src);
  for (const auto& f : r.initrd.files) add_file_input(ctx, "initrd-file", f.src);
  for (const auto& a : r.initrd.archives) add_file_input(ctx, "initrd-archive", a.src);
  for (const auto& t : r.initrd.trees) add_tree_input(ctx, t);
}

void stage_initrd(BuildContext& ctx) {
  const auto& r = ctx.recipe;
  ctx.write_artifact("initrd", "initrd",
                     [&](ByteSink& out) { write_initrd(r.initrd, r.source_date_epoch, out); });
}

}  // namespace

std::size_t max_cmdline_bytes(const std::string& arch) {
  return arch == "s390x" ? 4096 : kMaxCmdlineBytes;
}

namespace {

void stage_cmdline(BuildContext& ctx) {
  std::string joined;
  for (const auto& part : ctx.recipe.cmdline) {
    std::string text;
    try {
      text = recipe::expand_variables(part.text, [&](const std::string& name) {
        auto it = ctx.variables.find(name);
        return it == ctx.variables.end() ? std::nullopt : std::optional<std::string>(it->second);
      });
    } catch (const std::out_of_range& e) {
      throw InputError(part.mark.file, part.mark.place(),
                       std::string("variable '${") + e.what() + "}' has no value in this build");
    }
    // The loader checked the written text and the recipe's own variables;
    // this holds for every value a variable can take in a build.
    if (text.find_first_of(std::string("\n\r\0", 3)) != std::string::npos)
      throw InputError(part.mark.file, part.mark.place(),
                       "the expanded cmdline must not contain newlines or NUL bytes");
    if (text.empty()) continue;
    if (!joined.empty()) joined.push_back(' ');
    joined.append(text);
  }
  const std::size_t limit = max_cmdline_bytes(ctx.recipe.arch);
  if (joined.size() + 1 > limit) {
    const auto& m = ctx.recipe.cmdline.front().mark;
    throw InputError(m.file, m.place(),
                     "the cmdline is " + std::to_string(joined.size()) +
                         " bytes; the kernel accepts at most " + std::to_string(limit - 1) +
                         " on " + ctx.recipe.arch + " (COMMAND_LINE_SIZE " + std::to_string(limit) +
                         " with its NUL)");
  }
  ctx.cmdline = joined;
  ctx.manifest.set_cmdline(joined);
  ctx.write_artifact("cmdline", "cmdline", [&](ByteSink& out) {
    out.write(as_bytes(joined));
    out.finish();
  });
}

void stage_kernel(BuildContext& ctx) {
  MappedFile k(ctx.recipe.kernel.resolved);
  ctx.write_artifact("kernel", "kernel", [&](ByteSink& out) {
    out.write(k.bytes());
    out.finish();
  });
}

}  // namespace

BuildResult run_build(const recipe::Recipe& r, const fs::path& staging,
                      const std::string& tool_version, Progress& progress, const BuildEnv& env) {
  BuildContext ctx{r, staging, Manifest(), {}, {}, {}, &progress, &env, {}};
  ctx.manifest.set_tool(tool_version);
  ctx.manifest.set_source_date(r.source_date_epoch, r.source_date_origin);
  ctx.variables["name"] = r.name;
  ctx.variables["version"] = r.version;
  {
    Step s(progress, "hash inputs");
    stage_inputs(ctx);
  }
  if ((r.outputs.direct || r.outputs.uki.present) && r.initrd.present) {
    Step s(progress, "initrd");
    stage_initrd(ctx);
  }
  if (r.rootfs.present) {
    Step s(progress, r.rootfs.verity.present ? "rootfs + verity" : "rootfs");
    stage_rootfs(ctx);
  }
  {
    Step s(progress, "cmdline");
    stage_cmdline(ctx);
  }
  if (r.outputs.direct) {
    Step s(progress, "kernel");
    stage_kernel(ctx);
  }
  if (r.outputs.uki.present) {
    Step s(progress, "uki");
    stage_uki(ctx);
  }
  if (r.outputs.se.present) {
    Step s(progress, "se");
    stage_se(ctx);
  }
  if (r.initdata.present) {
    Step s(progress, "initdata");
    stage_initdata(ctx);
  }
  BuildResult result;
  if (r.measurements.tdx.present) {
    Step s(progress, "measure tdx");
    stage_measure_tdx(ctx);
  }
  if (r.measurements.snp.present) {
    Step s(progress, "measure snp");
    stage_measure_snp(ctx);
  }
  if (r.initdata.present) bind_initdata(ctx);
  {
    Step s(progress, "manifest");
    result.manifest_text = ctx.manifest.canonical();
    write_file(staging / "manifest.json", result.manifest_text);
  }
  if (r.exports.any()) {
    Step s(progress, "exports");
    attest::write_recipe_exports(r.exports, result.manifest_text, staging);
  }
  result.artifacts = ctx.artifacts;
  result.cmdline = ctx.cmdline;
  result.warnings = ctx.warnings;
  return result;
}

}  // namespace mkguest
