// The CLI layer: one register_* function per top-level command. Each adds a
// CLI11 subcommand whose callback runs the command and may throw mkguest
// errors; main() catches them once and maps them to exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace mkguest::cli {

// Set by a command's callback; main() returns it when no error was thrown.
// Verify-style commands use it to report a failed check (exit 1).
void set_exit_code(int code);
int exit_code();

// The command line as CLI11 is to parse it, in CLI11's reversed order and
// without the program name. An empty value written with '=' ("--append=")
// becomes the option and an empty argument ("--append", ""), as argparse,
// getopt and the tools mkguest stands in for read it; CLI11 alone takes
// "--opt=" for a missing value. Nothing after "--" is touched.
std::vector<std::string> parse_order_args(int argc, const char* const* argv);

// The shared `measure` group; created on first use.
CLI::App* measure_group(CLI::App& app);

void register_build(CLI::App& app);
void register_measure_snp(CLI::App& app);
void register_verity(CLI::App& app);
void register_export(CLI::App& app);
void register_sign(CLI::App& app);
void register_verify(CLI::App& app);
void register_erofs(CLI::App& app);
void register_measure_tdx(CLI::App& app);
void register_verify_eventlog(CLI::App& app);
void register_uki(CLI::App& app);
void register_measure_pcr11(CLI::App& app);
void register_measure_initdata(CLI::App& app);
void register_inspect(CLI::App& app);
void register_se(CLI::App& app);
void register_show(CLI::App& app);
void register_measure_igvm(CLI::App& app);
void register_explain(CLI::App& app);

}  // namespace mkguest::cli
