// `mkguest measure`: the group of measurement-prediction commands. Each
// platform registers its subcommand through measure_group().
#include "builder/cli/commands.h"

namespace mkguest::cli {

CLI::App* measure_group(CLI::App& app) {
  for (auto* sub : app.get_subcommands([](CLI::App* s) { return s->get_name() == "measure"; })) {
    return sub;
  }
  auto* m = app.add_subcommand("measure", "Predict launch measurements");
  m->require_subcommand(1);
  return m;
}

}  // namespace mkguest::cli
