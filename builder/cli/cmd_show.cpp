// `mkguest show OUTDIR [--json]`: what a build predicted, for people. Reads
// OUTDIR/manifest.json (or a manifest file) and prints the artifacts, each
// platform's values and what they bind, and the export files beside it
// (builder/manifest/summary.h); --json gives the same for machines.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "builder/cli/attest_io.h"
#include "builder/cli/commands.h"
#include "builder/manifest/summary.h"

namespace mkguest::cli {
namespace {

namespace fs = std::filesystem;

struct ShowArgs {
  std::string dir;
  bool json = false;
};

// The export files a build writes beside its manifest (docs/attestation.md).
const char* const kExports[] = {
    "rvps-message.json", "kbs-client.sh",          "se/hdr.bin",
    "se/se-policy.rego", "provenance.intoto.json", "reference-values.intoto.json",
    "sbom.spdx.json",    "manifest.json.dsse.json"};

void run(const ShowArgs& a) {
  LoadedManifest m = load_manifest(a.dir);
  const fs::path dir = m.path.parent_path().empty() ? fs::path(".") : m.path.parent_path();
  std::vector<std::string> exports;
  for (const char* e : kExports) {
    std::error_code ec;
    if (fs::is_regular_file(fs::symlink_status(dir / e, ec))) exports.push_back(e);
  }
  const Summary s = summarize_manifest(m.json, m.path.string());
  if (a.json) {
    std::cout << canonical_json(summary_json(s, dir.string(), exports));
  } else {
    std::cout << summary_text(s, dir.string(), exports);
  }
}

}  // namespace

void register_show(CLI::App& app) {
  auto a = std::make_shared<ShowArgs>();
  auto* c = app.add_subcommand(
      "show",
      "Print what a build predicted: the artifacts, the SNP, TDX, vTPM and SE values and what "
      "each binds, and the export files (the Trustee message...)");
  c->add_option("OUTDIR", a->dir, "a build's output directory, or its manifest.json")->required();
  c->add_flag("--json", a->json, "the same as JSON");
  c->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
