// The shared `mkguest measure` command group; each platform adds its own
// subcommand (measure tdx, measure snp, ...).
#include "builder/cli/commands.h"

namespace mkguest::cli {

CLI::App* measure_group(CLI::App& app) {
  // CLI11 2.1 (Debian 12) has no get_subcommand_no_throw(): filter instead.
  auto found = app.get_subcommands([](CLI::App* s) { return s->get_name() == "measure"; });
  if (!found.empty()) return found.front();
  auto* m = app.add_subcommand("measure", "Predict launch measurements");
  m->require_subcommand(1);
  return m;
}

}  // namespace mkguest::cli
