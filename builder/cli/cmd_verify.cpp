// `mkguest verify`: an output directory against its manifest, and
// `--rebuild RECIPE`: a second build in a temporary directory compared byte
// for byte (a reproducibility gate).
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <set>

#include "base/error.h"
#include "base/file.h"
#include "builder/attest/cose.h"
#include "builder/cli/attest_io.h"
#include "builder/cli/commands.h"
#include "builder/verify/verify.h"

namespace mkguest::cli {

namespace fs = std::filesystem;

namespace {

struct Args {
  std::string outdir, manifest, rebuild;
  std::vector<std::string> inputs;
  bool keep = false;
};

// An SE image built without a test seed is randomised by design (keys, IV,
// tweaks): its image, header and the values that depend on them cannot be
// rebuilt. What is left of the manifest must still be equal.
attest::json without_se_randomness(attest::json m) {
  attest::json* se = nullptr;
  if (m.contains("measurements") && m["measurements"].contains("se")) se = &m["measurements"]["se"];
  if (!se || se->value("reproducible", true)) return m;
  std::set<std::string> files{se->value("file", ""), se->value("hdr_file", "")};
  attest::json kept;
  for (const char* k : {"version", "layout", "phs", "nks", "nep", "pcf", "scf", "ald", "image_phkh",
                        "file", "hdr_file", "loaders", "host_keys"})
    if (se->contains(k)) kept[k] = (*se)[k];
  kept["components"] = attest::json::array();
  for (const auto& c : (*se)["components"])
    kept["components"].push_back({{"type", c["type"]},
                                  {"addr", c["addr"]},
                                  {"pages", c["pages"]},
                                  {"size", c["size"]},
                                  {"sha256", c["sha256"]}});
  *se = kept;
  attest::json outs = attest::json::array();
  for (const auto& o : m["outputs"])
    if (!files.count(o.value("file", ""))) outs.push_back(o);
  m["outputs"] = outs;
  return m;
}

void print(const std::vector<attest::Finding>& f) {
  for (const auto& x : f)
    std::cout << "DIFFERENT " << x.check << ": " << x.subject << ": " << x.message << "\n";
}

// Runs this mkguest binary's build into `dir`. The source date comes from
// where the first build took it: SOURCE_DATE_EPOCH is set to the manifest's
// value only when that build had it from the environment (source_date_origin),
// so that the rebuilt manifest records the same origin.
void rebuild(const std::string& recipe, const fs::path& dir, const attest::json& manifest) {
  std::string self = fs::read_symlink("/proc/self/exe").string();
  std::string sde = std::to_string(attest::manifest_epoch(manifest));
  std::string origin = attest::find_string(manifest, {"source_date_origin"}, "environment");
  pid_t pid = ::fork();
  if (pid < 0) throw InternalError("fork failed");
  if (pid == 0) {
    if (origin == "environment")
      ::setenv("SOURCE_DATE_EPOCH", sde.c_str(), 1);
    else
      ::unsetenv("SOURCE_DATE_EPOCH");
    std::vector<std::string> argv{self, "build", "--quiet", recipe, "-o", dir.string()};
    // The first build's --set overrides, in their order (paths in them are
    // relative to the current directory, as they were for the first build).
    if (manifest.contains("recipe") && manifest["recipe"].contains("overrides"))
      for (const auto& o : manifest["recipe"]["overrides"]) {
        argv.push_back("--set");
        argv.push_back(o.get<std::string>());
      }
    std::vector<char*> args;
    for (auto& s : argv) args.push_back(s.data());
    args.push_back(nullptr);
    ::execv(self.c_str(), args.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw InputError(recipe, "",
                     "the rebuild failed (exit " +
                         std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                         "); its messages are above");
}

// A signed CoRIM (exports.corim.sign) whose ECDSA signature differs from the
// rebuild's: a PEM key signs with RFC 6979's deterministic k, so its rebuild
// is byte-identical, but a key on a PKCS#11 token draws its own k, so only
// what the signature signs (protected header with the key id, and the CoRIM)
// can be compared. EdDSA and RSA signatures are deterministic and compared
// byte for byte.
bool same_signed_corim(const fs::path& first, const fs::path& again, const attest::Finding& f) {
  if (f.subject != "corim.cose" || f.message.rfind("differs", 0) != 0) return false;
  const Bytes a = read_file(first / f.subject), b = read_file(again / f.subject);
  attest::CoseSigned x, y;
  try {
    x = attest::cose_signed_content(a, f.subject);
    y = attest::cose_signed_content(b, "the rebuild's " + f.subject);
  } catch (const InputError&) {
    return false;  // not a signed CoRIM: it differs, as any other file does
  }
  if (!attest::cose_alg_is_randomised(x.alg) || x.alg != y.alg || x.to_be_signed != y.to_be_signed)
    return false;
  std::cerr << "mkguest: verify: " << f.subject
            << ": its ECDSA signature is randomised (a token's key); the signed header and "
               "CoRIM are compared\n";
  return true;
}

void run(const Args& a) {
  if (a.manifest.empty()) {
    // OUTDIR's own manifest.json: a regular file, not a symlink out of OUTDIR.
    const attest::VerifyContext probe{a.outdir, {}, a.outdir};
    probe.output_path("manifest.json");
  }
  LoadedManifest m = load_manifest(a.manifest.empty() ? a.outdir : a.manifest);
  attest::VerifyContext ctx{a.outdir, m.json, m.path.string()};
  // Inputs named relative to the recipe are found beside it; --inputs adds places.
  if (!a.rebuild.empty()) ctx.input_dirs.push_back(fs::absolute(a.rebuild).parent_path());
  for (const auto& d : a.inputs) ctx.input_dirs.push_back(d);
  attest::VerifyReport r = attest::run_verify(ctx, attest::default_verify_checks());
  print(r.findings);
  std::size_t problems = r.findings.size();
  if (!a.rebuild.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "mkguest-rebuild-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw InternalError("mkdtemp failed");
    fs::path tmp = tmpl;
    fs::path out = tmp / "out";
    try {
      rebuild(a.rebuild, out, m.json);
      // Files beside the build's own (signatures, exports) are not the build's
      // to reproduce: only the manifest and its outputs must be in the rebuild.
      std::set<std::string> own{m.path.filename().string()};
      if (const auto* outs = attest::find(m.json, {"outputs"}); outs && outs->is_array())
        for (const auto& o : *outs) own.insert(attest::find_string(o, {"file"}));
      std::vector<attest::Finding> diffs;
      const attest::json* se = attest::find(m.json, {"measurements", "se"});
      std::set<std::string> randomised;
      if (se && !se->value("reproducible", true)) {
        randomised = {m.path.filename().string(), se->value("file", ""), se->value("hdr_file", "")};
        std::cerr << "mkguest: verify: the SE image is randomised by design (no test_seed): "
                     "its image and header are not compared byte for byte; ALD, NEP, flags, "
                     "host keys and the components' plaintext digests are\n";
        const attest::json again = attest::json::parse(read_text_file(out / m.path.filename()));
        if (without_se_randomness(m.json) != without_se_randomness(again))
          diffs.push_back({"rebuild", m.path.filename().string(),
                           "differs beyond the SE image's randomised values"});
      }
      for (auto& f : attest::compare_trees(m.path.parent_path(), out))
        if ((own.count(f.subject) || f.message != "missing from the rebuild") &&
            !(randomised.count(f.subject) && f.message.rfind("differs", 0) == 0) &&
            !same_signed_corim(m.path.parent_path(), out, f))
          diffs.push_back(std::move(f));
      print(diffs);
      problems += diffs.size();
    } catch (...) {
      if (!a.keep) fs::remove_all(tmp);
      throw;
    }
    if (a.keep)
      std::cerr << "mkguest: rebuild kept in " << out.string() << "\n";
    else
      fs::remove_all(tmp);
  }
  std::string ran;
  for (const auto& c : r.ran) ran += (ran.empty() ? "" : ", ") + c;
  for (const auto& c : r.skipped)
    if ((c == "snp" || c == "tdx") && attest::find(m.json, {"measurements", c}))
      std::cerr << "mkguest: verify: " << c
                << " not re-derived: its firmware input was not found "
                   "(give --inputs DIR, the recipe's directory, or --rebuild RECIPE)\n";
  if (!a.rebuild.empty()) ran += ", rebuild";
  if (problems) {
    std::cout << "FAILED: " << problems << " difference(s) (checks: " << ran << ")\n";
    set_exit_code(static_cast<int>(ExitCode::kMismatch));
  } else {
    std::cout << "OK: " << a.outdir << " matches its manifest (checks: " << ran << ")\n";
  }
}

}  // namespace

void register_verify(CLI::App& app) {
  auto a = std::make_shared<Args>();
  std::string checks;
  for (const auto& c : attest::default_verify_checks())
    checks += "\n  " + c.name + ": " + c.description;
  auto* v = app.add_subcommand(
      "verify",
      "Check an output directory against its manifest; exit 1 and name every difference.\n"
      "Checks:" +
          checks +
          "\n  rebuild (--rebuild RECIPE): build again in a temporary directory, compare bytes");
  v->add_option("OUTDIR", a->outdir, "the output directory")
      ->required()
      ->check(CLI::ExistingDirectory);
  v->add_option("--manifest", a->manifest, "the manifest (default: OUTDIR/manifest.json)");
  v->add_option("--rebuild", a->rebuild, "rebuild RECIPE and compare every file byte for byte");
  v->add_option("--inputs", a->inputs,
                "a directory where inputs named in the manifest are found (the recipe's "
                "directory; repeatable; --rebuild adds the recipe's)");
  v->add_flag("--keep", a->keep, "keep the rebuild's directory (for diffoscope)");
  v->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
