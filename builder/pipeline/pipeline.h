// The build pipeline: a validated recipe in, artifacts and a manifest out,
// all written into a staging directory that the CLI later commits
// atomically. The recipe first becomes a typed BuildPlan (plan.h: enums, and
// every input file opened and hashed once); then a table of stages runs in a
// fixed order, each applying or not by the plan:
//   initrd -> [rootfs + verity] -> cmdline -> kernel -> [uki, se, initdata]
//   -> [measure tdx, measure snp, igvm, bind initdata] -> manifest -> [exports]
// A stage reads the plan's input bytes and the typed artifacts that earlier
// stages wrote (BuildArtifacts), never a file by name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/progress.h"
#include "base/secret.h"
#include "base/sink.h"
#include "builder/manifest/manifest.h"
#include "builder/pipeline/plan.h"
#include "recipes/recipe.h"

namespace mkguest {

// Progress reporting, implemented by the CLI (which owns the clock and the
// terminal). A long step announces the bytes it will process (`expect`, which
// adds to the step's total) and reports them as it goes (`add`); the pipeline
// never measures time.
class Progress : public ByteProgress {
 public:
  virtual ~Progress() = default;
  virtual void begin(const std::string& step) = 0;
  virtual void end() = 0;
  virtual void expect(std::uint64_t bytes) { (void)bytes; }
  void add(std::uint64_t bytes) override { (void)bytes; }
  // A warning for the user (e.g. a key file others can read).
  virtual void warn(const std::string& message) { (void)message; }
};

// What only the CLI reads (the environment, the clock), resolved before the
// build: the pipeline reads neither.
struct BuildEnv {
  SecretBytes secureboot_secret;  // the value of outputs.uki.secureboot.pin_env (empty: none)
  std::int64_t now = 0;           // the current Unix time: host-key documents' validity
  SecretBytes corim_secret;       // the value of exports.corim.sign.pin_env (empty: none)
};

struct Artifact {
  std::string role;
  std::string file;  // name inside the output directory
  std::uint64_t size = 0;
  Bytes sha256;
  Bytes sha384;
};

// What the stages wrote, one typed slot per artifact.
struct BuildArtifacts {
  std::optional<Artifact> initrd;
  std::optional<Artifact> rootfs;         // rootfs.img
  std::optional<Artifact> rootfs_verity;  // rootfs.verity (layout separate)
  std::optional<Artifact> disk;           // rootfs.disk (layout partitioned)
  std::optional<Artifact> cmdline;
  std::optional<Artifact> kernel;  // outputs.direct
  std::optional<Artifact> uki;
  std::optional<Artifact> se;
  std::optional<Artifact> se_header;
  std::optional<Artifact> initdata;             // initdata.toml
  std::optional<Artifact> initdata_annotation;  // Kata's annotation value
  std::vector<std::optional<Artifact>> igvm;    // outputs.igvm, one per file
  // Every artifact written, by role.
  std::map<std::string, Artifact> by_role() const;
};

struct BuildContext {
  BuildPlan& plan;
  const recipe::Recipe& recipe;
  std::filesystem::path staging;
  Manifest manifest;
  // ${...} values for the cmdline; stages add theirs (e.g. verity.root_hash).
  std::map<std::string, std::string> variables;
  std::string cmdline;  // the expanded cmdline, once the cmdline stage ran
  BuildArtifacts artifacts;
  Progress* progress = nullptr;   // for warnings
  const BuildEnv* env = nullptr;  // what the CLI resolved (run_build sets it)
  // Warnings for the build's summary (e.g. a measurement that binds no kernel).
  std::vector<std::string> warnings;

  std::string manifest_text;  // once the manifest stage ran

  // Streams an artifact into staging/<file> through `emit`, digests it and
  // records it in `slot` and in the manifest's outputs.
  const Artifact& write_artifact(std::optional<Artifact>& slot, const std::string& role,
                                 const std::string& file,
                                 const std::function<void(ByteSink&)>& emit);
  std::filesystem::path path_of(const Artifact& a) const { return staging / a.file; }
};

// One stage of the build: a progress label, whether the plan calls for it,
// and what it does.
struct Stage {
  const char* label;
  bool (*applies)(const BuildPlan& plan);
  void (*run)(BuildContext& ctx);
};

// The stages, in the order they run.
std::span<const Stage> build_stages();

struct BuildResult {
  std::map<std::string, Artifact> artifacts;
  std::string cmdline;
  std::string manifest_text;
  std::vector<std::string> warnings;  // for the summary (stderr, --json)
};

// Runs every stage. Writes into `staging` (which must exist and be empty),
// including staging/manifest.json.
// `opener` maps each input file once (make_plan; a test passes one that
// counts); default: map the file.
BuildResult run_build(const recipe::Recipe& recipe, const std::filesystem::path& staging,
                      const std::string& tool_version, Progress& progress, const BuildEnv& env,
                      InputOpener opener = {});

// The x86 kernel's COMMAND_LINE_SIZE, including the terminating NUL.
inline constexpr std::size_t kMaxCmdlineBytes = 2048;
// The kernel's COMMAND_LINE_SIZE for the recipe's arch, NUL included:
// x86-64 and arm64 2048, s390x 4096 (an IBM SE image also checks the limit
// the kernel image itself declares).
std::size_t max_cmdline_bytes(const std::string& arch);

}  // namespace mkguest
