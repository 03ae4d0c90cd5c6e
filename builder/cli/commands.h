// The CLI layer: one register_* function per top-level command. Each adds a
// CLI11 subcommand whose callback runs the command and may throw mkguest
// errors; main() catches them once and maps them to exit codes.
#pragma once

#include <CLI/CLI.hpp>

namespace mkguest::cli {

// Set by a command's callback; main() returns it when no error was thrown.
// Verify-style commands use it to report a failed check (exit 1).
void set_exit_code(int code);
int exit_code();

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
void register_inspect(CLI::App& app);
void register_se(CLI::App& app);

}  // namespace mkguest::cli
