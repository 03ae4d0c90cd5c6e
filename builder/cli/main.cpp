// mkguest: builds confidential-VM guest images and predicts their measurements.
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/version.h"
#include "builder/cli/commands.h"

namespace mkguest::cli {
namespace {
int g_exit_code = 0;
}
void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }

std::vector<std::string> parse_order_args(int argc, const char* const* argv) {
  std::vector<std::string> args;
  bool options = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") options = false;
    if (options && arg.size() > 3 && arg.compare(0, 2, "--") == 0 && arg.back() == '=' &&
        arg.find('=') == arg.size() - 1) {
      arg.pop_back();
      args.push_back(arg);
      args.emplace_back();
      continue;
    }
    args.push_back(std::move(arg));
  }
  return {args.rbegin(), args.rend()};
}
}  // namespace mkguest::cli

namespace {

// An empty number ("--vcpus=", "--data-blocks=") is refused, as argparse's
// type=int, popt and systemd's parsers refuse it; CLI11 alone reads it as 0.
void refuse_empty_numbers(CLI::App* app) {
  for (CLI::Option* o : app->get_options([](CLI::Option*) { return true; })) {
    if (o->get_type_size() == 0) continue;  // a flag
    const std::string type = o->get_type_name();
    const std::string base = type.substr(0, type.find(':'));
    if (base != "INT" && base != "UINT" && base != "FLOAT") continue;
    o->check(CLI::Validator(
        [](std::string& v) { return v.empty() ? std::string("empty value, not a number") : ""; },
        ""));
  }
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) {
    refuse_empty_numbers(sub);
  }
}

constexpr const char* kFooter = R"(Exit codes:
  0  success
  1  usage error, or a verify/compare command found a difference
  2  bad input (recipe, firmware, archive, key...): the message names file and place
  3  internal error (I/O failure, library failure, bug)

Run 'mkguest COMMAND --help' for the options of a command.)";

}  // namespace

int main(int argc, char** argv) {
  using namespace mkguest;
  // A file-size limit (or a full disk) must surface as a write error with the
  // file's name, not as a silent SIGXFSZ death.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"mkguest: build confidential-VM guest images and predict what the hardware measures",
               "mkguest"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string("mkguest ") + kVersion);
  app.require_subcommand(1);
  app.fallthrough(false);

  cli::register_build(app);
  cli::register_verity(app);
  cli::register_measure_snp(app);
  cli::register_export(app);
  cli::register_sign(app);
  cli::register_verify(app);
  cli::register_erofs(app);
  cli::register_measure_tdx(app);
  cli::register_verify_eventlog(app);
  cli::register_uki(app);
  cli::register_measure_pcr11(app);
  cli::register_measure_initdata(app);
  cli::register_inspect(app);
  cli::register_se(app);
  cli::register_show(app);
  cli::register_measure_igvm(app);
  cli::register_explain(app);
  refuse_empty_numbers(&app);

  try {
    std::vector<std::string> args = cli::parse_order_args(argc, argv);
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "mkguest: error: " << e.what() << "\n"
              << "Run 'mkguest --help' for usage.\n";
    return static_cast<int>(ExitCode::kUsage);
  } catch (const Error& e) {
    std::cerr << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::cerr << "internal error: out of memory\n";
    return static_cast<int>(ExitCode::kInternal);
  } catch (const std::exception& e) {
    std::cerr << "internal error: " << e.what() << "\n";
    return static_cast<int>(ExitCode::kInternal);
  }
  return cli::exit_code();
}
