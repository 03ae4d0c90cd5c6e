#include "builder/pipeline/pipeline.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/file.h"
#include "builder/attest/exports.h"
#include "builder/attest/kata.h"
#include "builder/pipeline/igvm_stage.h"
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

const Artifact& BuildContext::write_artifact(std::optional<Artifact>& slot, const std::string& role,
                                             const std::string& file,
                                             const std::function<void(ByteSink&)>& emit) {
  FileSink f(staging / file);
  DigestSink d(f);
  emit(d);
  slot = Artifact{role, file, d.size(), d.sha256(), d.sha384()};
  manifest.add_output(role, file, slot->size, slot->sha256, slot->sha384);
  return *slot;
}

std::map<std::string, Artifact> BuildArtifacts::by_role() const {
  std::map<std::string, Artifact> out;
  for (const auto* a : {&initrd, &rootfs, &rootfs_verity, &disk, &cmdline, &kernel, &uki, &se,
                        &se_header, &initdata, &initdata_annotation})
    if (*a) out.emplace((*a)->role, **a);
  for (const auto& a : igvm)
    if (a) out.emplace(a->role, *a);
  return out;
}

namespace {

class Step {
 public:
  Step(Progress& p, const std::string& name) : p_(p) { p_.begin(name); }
  ~Step() { p_.end(); }

 private:
  Progress& p_;
};

// The plan's inputs into the manifest: the recipe, every file each stage
// reads and the initrd trees, hashed when the plan opened them.
void record_inputs(BuildContext& ctx) {
  const auto& r = ctx.recipe;
  ctx.manifest.set_recipe(r.file.display, ctx.plan.recipe_sha256, r.name, r.version, r.overrides);
  for (const auto& u : ctx.plan.inputs.uses())
    ctx.manifest.add_input(u.role, u.display, u.size, u.sha256);
}

void stage_initrd(BuildContext& ctx) {
  const auto& r = ctx.recipe;
  const MappedInputs lookup = ctx.plan.inputs.lookup();
  ctx.write_artifact(ctx.artifacts.initrd, "initrd", "initrd", [&](ByteSink& out) {
    write_initrd(r.initrd, r.source_date_epoch, out, lookup);
  });
}

}  // namespace

std::size_t max_cmdline_bytes(const std::string& arch) {
  return arch == "s390x" ? 4096 : kMaxCmdlineBytes;
}

namespace {

void stage_cmdline(BuildContext& ctx) {
  const recipe::VeritySpec& verity = ctx.recipe.rootfs.verity;
  const bool kata_wiring = verity.present && verity.wiring == "kata";
  if (ctx.recipe.exports.kata.present || kata_wiring) {  // ${kata.runtime_params} (docs/kata.md §9)
    auto v = ctx.variables.find("verity.kata_params");
    ctx.variables["kata.runtime_params"] =
        attest::kata_runtime_params_for(ctx.recipe.exports.kata, ctx.recipe.rootfs.present,
                                        v == ctx.variables.end() ? "" : v->second);
  }
  std::string joined;
  // rootfs.verity.wiring: kata: the cmdline is what Kata's Go runtime passes,
  // its own parameters (with the dm-mod.create it builds from
  // kernel_verity_params) and then the recipe's cmdline as kernel_params.
  if (kata_wiring) joined = ctx.variables.at("kata.runtime_params");
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
  if (kata_wiring) {
    const std::string kernel_params = joined.substr(ctx.variables.at("kata.runtime_params").size());
    for (const char* own : {" root=", " dm-mod.create=", " rootfstype=", " rootflags="})
      if ((" " + kernel_params).find(own) != std::string::npos)
        throw InputError(verity.wiring_mark.file, verity.wiring_mark.place(),
                         std::string("wiring: kata: Kata's runtime writes ") + (own + 1) +
                             " itself; the recipe's cmdline must not (it is kernel_params)");
    if (kernel_params.find_first_not_of(' ') == std::string::npos)
      throw InputError(verity.wiring_mark.file, verity.wiring_mark.place(),
                       "wiring: kata needs a cmdline (Kata's kernel_params) of its own");
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
  ctx.write_artifact(ctx.artifacts.cmdline, "cmdline", "cmdline", [&](ByteSink& out) {
    out.write(as_bytes(joined));
    out.finish();
  });
}

void stage_kernel(BuildContext& ctx) {
  ctx.write_artifact(ctx.artifacts.kernel, "kernel", "kernel", [&](ByteSink& out) {
    out.write(ctx.plan.kernel->bytes());
    out.finish();
  });
}

}  // namespace

namespace {

void stage_manifest(BuildContext& ctx) {
  ctx.manifest_text = ctx.manifest.canonical();
  write_file(ctx.staging / "manifest.json", ctx.manifest_text);
}

void stage_exports(BuildContext& ctx) {
  attest::ExportSecrets secrets;
  if (ctx.env) secrets.corim_secret = SecretBytes(ctx.env->corim_secret.view());
  secrets.warn = [&ctx](const std::string& m) {
    if (ctx.progress) ctx.progress->warn(m);
  };
  attest::write_recipe_exports(ctx.recipe.exports, ctx.manifest_text, ctx.staging, secrets);
}

const recipe::Recipe& recipe_of(const BuildPlan& p) { return p.recipe; }

constexpr Stage kStages[] = {
    {"initrd",
     [](const BuildPlan& p) {
       return (recipe_of(p).outputs.direct || recipe_of(p).outputs.uki.present) &&
              recipe_of(p).initrd.present;
     },
     stage_initrd},
    {"rootfs + verity",
     [](const BuildPlan& p) {
       return recipe_of(p).rootfs.present && recipe_of(p).rootfs.verity.present;
     },
     stage_rootfs},
    {"rootfs",
     [](const BuildPlan& p) {
       return recipe_of(p).rootfs.present && !recipe_of(p).rootfs.verity.present;
     },
     stage_rootfs},
    {"cmdline", [](const BuildPlan&) { return true; }, stage_cmdline},
    {"kernel", [](const BuildPlan& p) { return recipe_of(p).outputs.direct; }, stage_kernel},
    {"uki", [](const BuildPlan& p) { return recipe_of(p).outputs.uki.present; }, stage_uki},
    {"se", [](const BuildPlan& p) { return recipe_of(p).outputs.se.present; }, stage_se},
    {"initdata", [](const BuildPlan& p) { return recipe_of(p).initdata.present; }, stage_initdata},
    {"measure tdx", [](const BuildPlan& p) { return recipe_of(p).measurements.tdx.present; },
     stage_measure_tdx},
    {"measure snp", [](const BuildPlan& p) { return recipe_of(p).measurements.snp.present; },
     stage_measure_snp},
    {"igvm", [](const BuildPlan& p) { return recipe_of(p).outputs.igvm.present; }, stage_igvm},
    {"bind initdata", [](const BuildPlan& p) { return recipe_of(p).initdata.present; },
     bind_initdata},
    {"manifest", [](const BuildPlan&) { return true; }, stage_manifest},
    {"exports", [](const BuildPlan& p) { return recipe_of(p).exports.any(); }, stage_exports},
};

}  // namespace

std::span<const Stage> build_stages() { return kStages; }

BuildResult run_build(const recipe::Recipe& r, const fs::path& staging,
                      const std::string& tool_version, Progress& progress, const BuildEnv& env,
                      InputOpener opener) {
  std::optional<BuildPlan> plan;
  {
    Step s(progress, "hash inputs");
    plan.emplace(make_plan(r, std::move(opener)));
  }
  BuildContext ctx{*plan, r, staging, Manifest(), {}, {}, {}, &progress, &env, {}, {}};
  ctx.manifest.set_tool(tool_version);
  ctx.manifest.set_source_date(r.source_date_epoch, r.source_date_origin);
  ctx.variables["name"] = r.name;
  ctx.variables["version"] = r.version;
  record_inputs(ctx);
  for (const Stage& stage : kStages) {
    if (!stage.applies(*plan)) continue;
    Step s(progress, stage.label);
    stage.run(ctx);
  }
  BuildResult result;
  result.manifest_text = ctx.manifest_text;
  result.artifacts = ctx.artifacts.by_role();
  result.cmdline = ctx.cmdline;
  result.warnings = ctx.warnings;
  return result;
}

}  // namespace mkguest
