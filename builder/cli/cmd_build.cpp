// `mkguest build`: recipe -> artifacts + manifest, committed atomically.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/secret.h"
#include "base/version.h"
#include "builder/cli/commands.h"
#include "builder/cli/outdir.h"
#include "builder/cli/progress.h"
#include "builder/pipeline/pipeline.h"

namespace mkguest::cli {

namespace {

struct BuildArgs {
  std::string recipe;
  std::string outdir = "out";
  std::vector<std::string> overrides;
  bool json = false;
  bool quiet = false;
  ProgressWhen progress = ProgressWhen::kAuto;
};

// MKGUEST_TEST_KILL_AT=<step> makes the build kill itself with SIGKILL when
// that step begins: the crash-safety tests use it to stop a build at exact,
// repeatable points (no timing involved). With `live`, a step that reports
// bytes shows a progress line (builder/cli/progress.h).
class StderrProgress : public Progress {
 public:
  StderrProgress(bool quiet, bool live, LiveLineOptions live_options) : quiet_(quiet) {
    if (const char* k = std::getenv("MKGUEST_TEST_KILL_AT")) kill_at_ = k;
    if (live) {
      line_ = std::make_unique<LiveLine>(
          [] {
            return std::chrono::duration<double>(
                       std::chrono::steady_clock::now().time_since_epoch())
                .count();
          },
          [](std::string_view text) {
            std::fwrite(text.data(), 1, text.size(), stderr);
            std::fflush(stderr);
          },
          live_options);
    }
  }
  void begin(const std::string& step) override {
    if (step == kill_at_) ::kill(::getpid(), SIGKILL);
    step_ = step;
    start_ = std::chrono::steady_clock::now();
    if (line_) line_->begin(step);
  }
  void expect(std::uint64_t bytes) override {
    if (line_) line_->expect(bytes);
  }
  void add(std::uint64_t bytes) override {
    if (line_) line_->add(bytes);
  }
  void warn(const std::string& message) override {
    std::cerr << "mkguest: warning: " << message << "\n";
  }
  void end() override {
    if (line_) line_->end();
    if (quiet_) return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "mkguest: %-14s %8.3f s\n", step_.c_str(), s);
  }

 private:
  bool quiet_;
  std::unique_ptr<LiveLine> line_;
  std::string kill_at_;
  std::string step_;
  std::chrono::steady_clock::time_point start_;
};

void run(const BuildArgs& a) {
  recipe::LoadOptions opt;
  opt.overrides = a.overrides;
  opt.cwd = std::filesystem::current_path();
  if (const char* sde = std::getenv("SOURCE_DATE_EPOCH")) opt.env_source_date_epoch = sde;
  const bool quiet = a.quiet || a.json;
  LiveLineOptions live_options;
  if (a.progress == ProgressWhen::kAlways) live_options.delay = 0;  // from the first byte
  StderrProgress progress(
      quiet, live_progress(a.progress, quiet, ::isatty(STDERR_FILENO) == 1, std::getenv("CI")),
      live_options);
  progress.begin("load recipe");
  recipe::Recipe r = recipe::load_recipe(a.recipe, opt);
  progress.end();

  BuildEnv env;
  const auto& sb = r.outputs.uki.secureboot;
  if (r.outputs.uki.present && sb.present && !sb.pin_env.empty()) {
    const char* v = std::getenv(sb.pin_env.c_str());
    if (!v)
      throw InputError(r.outputs.uki.mark.file, r.outputs.uki.mark.place(),
                       "secureboot.pin_env: environment variable " + sb.pin_env + " is not set");
    env.secureboot_secret = SecretBytes(std::string_view(v));
  }
  const auto& cs = r.exports.corim_sign;
  if (cs.present && !cs.pin_env.empty()) {
    const char* v = std::getenv(cs.pin_env.c_str());
    if (!v)
      throw InputError(
          cs.mark.file, cs.mark.place(),
          "exports.corim.sign.pin_env: environment variable " + cs.pin_env + " is not set");
    env.corim_secret = SecretBytes(std::string_view(v));
  }
  env.now = static_cast<std::int64_t>(std::time(nullptr));

  StagedDir staged(a.outdir);
  BuildResult result = run_build(r, staged.path(), kVersion, progress, env);
  progress.begin("commit");
  staged.commit();
  progress.end();

  std::filesystem::path out(a.outdir);
  // Warnings go to stderr whatever the mode (and into the JSON summary).
  for (const auto& w : result.warnings) progress.warn(w);
  if (a.json) {
    nlohmann::json j;
    j["outdir"] = out.string();
    j["manifest"] = (out / "manifest.json").string();
    j["cmdline"] = result.cmdline;
    j["outputs"] = nlohmann::json::array();
    for (const auto& [role, art] : result.artifacts) {
      j["outputs"].push_back({{"role", role},
                              {"path", (out / art.file).string()},
                              {"size", art.size},
                              {"sha256", to_hex(art.sha256)}});
    }
    j["warnings"] = result.warnings;
    std::cout << j.dump(2) << "\n";
  } else if (!a.quiet) {
    std::fprintf(stderr, "mkguest: built '%s' into %s/ (manifest: %s)\n", r.name.c_str(),
                 out.string().c_str(), (out / "manifest.json").string().c_str());
  }
}

}  // namespace

void register_build(CLI::App& app) {
  auto args = std::make_shared<BuildArgs>();
  auto* cmd = app.add_subcommand("build", "Build the artifacts and manifest a recipe describes");
  cmd->footer(
      "Writes into a staging directory beside OUTDIR and swaps it into place only when\n"
      "everything succeeded: a failed build leaves an earlier OUTDIR as it was.\n"
      "SOURCE_DATE_EPOCH, when set, overrides the recipe's source_date_epoch.");
  cmd->add_option("recipe", args->recipe, "The recipe (YAML)")->required();
  cmd->add_option("-o,--output", args->outdir, "Output directory (default: out)");
  cmd->add_option("--set", args->overrides,
                  "Override a recipe key: KEY.PATH=VALUE (repeatable; VALUE is YAML)");
  cmd->add_flag("--json", args->json, "Print a machine-readable summary on stdout");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress on stderr");
  const std::map<std::string, ProgressWhen> when{{"auto", ProgressWhen::kAuto},
                                                 {"always", ProgressWhen::kAlways},
                                                 {"never", ProgressWhen::kNever}};
  cmd->add_option("--progress", args->progress,
                  "Live progress line of long steps on stderr: auto (default: on a terminal, "
                  "not in CI), always (from the first byte, also into a pipe), never; "
                  "-q and --json turn it off")
      ->option_text("WHEN")
      ->transform(CLI::CheckedTransformer(when, CLI::ignore_case));
  cmd->callback([args] { run(*args); });
}

}  // namespace mkguest::cli
