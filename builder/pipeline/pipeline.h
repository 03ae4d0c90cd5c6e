// The build pipeline: a validated recipe in, artifacts and a manifest out,
// all written into a staging directory that the CLI later commits
// atomically. Stages run in a fixed order:
//   inputs -> initrd -> [rootfs + verity] -> cmdline -> kernel -> [uki, se]
//   -> [measurements] -> manifest
// Each stage reads what earlier stages recorded in the BuildContext.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/progress.h"
#include "base/secret.h"
#include "base/sink.h"
#include "builder/manifest/manifest.h"
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
};

struct Artifact {
  std::string role;
  std::string file;  // name inside the output directory
  std::uint64_t size = 0;
  Bytes sha256;
  Bytes sha384;
};

struct BuildContext {
  const recipe::Recipe& recipe;
  std::filesystem::path staging;
  Manifest manifest;
  // ${...} values for the cmdline; stages add theirs (e.g. verity.root_hash).
  std::map<std::string, std::string> variables;
  std::string cmdline;                        // the expanded cmdline, once the cmdline stage ran
  std::map<std::string, Artifact> artifacts;  // by role
  Progress* progress = nullptr;               // for warnings
  const BuildEnv* env = nullptr;              // what the CLI resolved (run_build sets it)
  // Warnings for the build's summary (e.g. a measurement that binds no kernel).
  std::vector<std::string> warnings;

  // Streams an artifact into staging/<file> through `emit`, digests it and
  // records it (manifest outputs and `artifacts`).
  const Artifact& write_artifact(const std::string& role, const std::string& file,
                                 const std::function<void(ByteSink&)>& emit);
  std::filesystem::path path_of(const std::string& role) const;
};

struct BuildResult {
  std::map<std::string, Artifact> artifacts;
  std::string cmdline;
  std::string manifest_text;
  std::vector<std::string> warnings;  // for the summary (stderr, --json)
};

// Runs every stage. Writes into `staging` (which must exist and be empty),
// including staging/manifest.json.
BuildResult run_build(const recipe::Recipe& recipe, const std::filesystem::path& staging,
                      const std::string& tool_version, Progress& progress, const BuildEnv& env);

// The x86 kernel's COMMAND_LINE_SIZE, including the terminating NUL.
inline constexpr std::size_t kMaxCmdlineBytes = 2048;
// The kernel's COMMAND_LINE_SIZE for the recipe's arch, NUL included:
// x86-64 and arm64 2048, s390x 4096 (an IBM SE image also checks the limit
// the kernel image itself declares).
std::size_t max_cmdline_bytes(const std::string& arch);

}  // namespace mkguest
