// `mkguest build`: recipe -> artifacts + manifest, committed atomically.
#include "builder/cli/commands.h"

namespace mkguest::cli {

void register_build(CLI::App& app) {
  auto* build = app.add_subcommand("build", "Build the artifacts and manifest a recipe describes");
  (void)build;
}

}  // namespace mkguest::cli
