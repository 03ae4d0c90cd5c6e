// `mkguest verity`: dm-verity format and verify (see verity/).
#include "builder/cli/commands.h"

namespace mkguest::cli {

void register_verity(CLI::App& app) {
  auto* verity = app.add_subcommand("verity", "dm-verity hash trees (veritysetup-compatible)");
  verity->require_subcommand(1);
}

}  // namespace mkguest::cli
