// `mkguest explain OUTDIR EVIDENCE... [--json]`: evidence from a running guest
// against a build's manifest (builder/verify/explain.h). Every evidence file
// is read and parsed before anything is printed; exit 0 when everything
// matches, 1 when a check found (and explained) a difference, 2 when an
// evidence file is not evidence.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <variant>
#include <vector>

#include "base/error.h"
#include "base/file.h"
#include "builder/cli/attest_io.h"
#include "builder/cli/commands.h"
#include "builder/formats/evidence/pcr_values.h"
#include "builder/formats/evidence/snp_report.h"
#include "builder/formats/evidence/tcg_log.h"
#include "builder/formats/evidence/tdx_quote.h"
#include "builder/formats/evidence/tdx_report.h"
#include "builder/verify/explain.h"

namespace mkguest::cli {
namespace {

namespace fs = std::filesystem;

struct ExplainArgs {
  std::string outdir;
  std::vector<std::string> evidence;
  std::vector<std::string> inputs;
  std::string cert;
  std::string chain;
  std::string ccel;
  std::string pcrs;
  unsigned threads = 0;
  bool json = false;
};

// One sysfs pcr-<bank> directory: files named 0..23, nothing else.
void read_pcr_dir(const fs::path& dir, HashAlg bank, evidence::PcrValues* out) {
  auto& values = (*out)[bank];
  for (const auto& f : fs::directory_iterator(dir)) {
    const std::string n = f.path().filename().string();
    const bool index = !n.empty() && n.size() <= 2 &&
                       n.find_first_not_of("0123456789") == std::string::npos &&
                       std::stoul(n) < evidence::kTpmPcrCount;
    if (!index) throw file_error(f.path().string(), "not a sysfs PCR file (pcr-<bank>/<0..23>)");
    values[static_cast<unsigned>(std::stoul(n))] =
        evidence::parse_sysfs_pcr(read_text_file(f.path().string()), f.path().string(), bank);
  }
}

// --pcrs: tpm2_pcrread YAML, a sysfs pcr-<bank> directory, or a directory
// holding pcr-<bank> directories (/sys/class/tpm/tpm0 copied).
evidence::PcrValues read_pcrs(const std::string& arg) {
  evidence::PcrValues out;
  if (arg.empty()) return out;
  const fs::path p(arg);
  if (fs::is_symlink(p)) throw file_error(arg, "is a symlink; give the file or directory itself");
  if (!fs::is_directory(p)) return evidence::parse_pcrread_yaml(read_text_file(arg), arg);
  auto bank_of = [](const std::string& name, HashAlg* alg) {
    return name.rfind("pcr-", 0) == 0 && parse_hash_alg(name.substr(4), alg);
  };
  HashAlg alg;
  if (bank_of(p.filename().string(), &alg)) {
    read_pcr_dir(p, alg, &out);
  } else {
    for (const auto& d : fs::directory_iterator(p))
      if (d.is_directory() && !d.is_symlink() && bank_of(d.path().filename().string(), &alg))
        read_pcr_dir(d.path(), alg, &out);
  }
  if (out.empty()) throw file_error(arg, "holds no pcr-<bank>/<N> PCR files");
  return out;
}

void run(const ExplainArgs& a) {
  {
    // OUTDIR's own manifest.json: a regular file, not a symlink out of OUTDIR.
    const attest::VerifyContext probe{a.outdir, {}, a.outdir};
    probe.output_path("manifest.json");
  }
  LoadedManifest m = load_manifest(a.outdir);
  attest::VerifyContext ctx{a.outdir, m.json, m.path.string()};
  for (const auto& d : a.inputs) ctx.input_dirs.push_back(d);
  attest::ExplainOptions opts;
  opts.threads = a.threads;
  if (!a.cert.empty()) {
    opts.certificate = read_file(a.cert);
    opts.certificate_name = a.cert;
  }
  if (!a.chain.empty()) {
    opts.chain = read_file(a.chain);
    opts.chain_name = a.chain;
  }
  Bytes ccel;
  if (!a.ccel.empty()) ccel = read_file(a.ccel);
  // Parse every file first: bad evidence stops the command before any output.
  const evidence::PcrValues pcrs = read_pcrs(a.pcrs);
  std::vector<std::variant<evidence::SnpReport, evidence::TdxQuote, evidence::TdxReport,
                           evidence::TpmEventLog>>
      parsed;
  for (const auto& f : a.evidence) {
    const Bytes bytes = read_file(f);
    if (evidence::looks_like_tcg_log(bytes)) {
      parsed.emplace_back(evidence::parse_tcg_log(bytes, f));
      continue;
    }
    // A TDX quote starts with u16 version 4 and u32 TEE type 0x81; an SNP
    // report's u32 version is 2, 3 or 5.
    const bool tdx = bytes.size() >= 8 && bytes[0] == 4 && bytes[1] == 0 && bytes[4] == 0x81 &&
                     bytes[5] == 0 && bytes[6] == 0 && bytes[7] == 0;
    if (tdx) {
      parsed.emplace_back(evidence::parse_tdx_quote(bytes, f));
      continue;
    }
    // A TDREPORT is 1024 bytes starting with REPORTTYPE.TYPE 0x81.
    if (bytes.size() == evidence::kTdxReportSize && bytes[0] == evidence::kTdxTeeType) {
      parsed.emplace_back(evidence::parse_tdx_report(bytes, f));
      continue;
    }
    if (bytes.size() != evidence::kSnpReportSize)
      throw file_error(f,
                       "not evidence explain reads: an SEV-SNP attestation report (as "
                       "`snpguest report` writes it) is 0x4a0 bytes, a TDX quote v4 starts "
                       "with version 4 and TEE type 0x81, a TDREPORT is 1024 bytes starting "
                       "with 0x81, a TPM event log starts with a \"Spec ID Event03\" header; "
                       "this file is " +
                           std::to_string(bytes.size()) + " bytes");
    parsed.emplace_back(evidence::parse_snp_report(bytes, f));
  }
  if (!a.pcrs.empty() && std::none_of(parsed.begin(), parsed.end(), [](const auto& p) {
        return std::holds_alternative<evidence::TpmEventLog>(p);
      }))
    throw UsageError("explain: --pcrs needs a TPM event log among the evidence files");
  std::vector<attest::ExplainResult> results;
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (const auto* r = std::get_if<evidence::SnpReport>(&parsed[i]))
      results.push_back(attest::explain_snp_report(ctx, *r, a.evidence[i], opts));
    else if (const auto* q = std::get_if<evidence::TdxQuote>(&parsed[i]))
      results.push_back(attest::explain_tdx_quote(ctx, *q, a.evidence[i], ccel, a.ccel));
    else if (const auto* l = std::get_if<evidence::TpmEventLog>(&parsed[i]))
      results.push_back(attest::explain_tpm_log(ctx, *l, pcrs, a.evidence[i], a.pcrs));
    else
      results.push_back(attest::explain_tdx_quote(ctx,
                                                  std::get<evidence::TdxReport>(parsed[i]).body,
                                                  a.evidence[i], ccel, a.ccel, "tdx-report"));
  }
  if (a.json)
    std::cout << attest::explain_json(results).dump(2) << "\n";
  else
    std::cout << attest::explain_text(results);
  for (const auto& r : results)
    if (!r.matches()) set_exit_code(static_cast<int>(ExitCode::kMismatch));
}

}  // namespace

void register_explain(CLI::App& app) {
  auto a = std::make_shared<ExplainArgs>();
  CLI::App* sub = app.add_subcommand(
      "explain",
      "Hold evidence from a running guest (an SEV-SNP attestation report, a TDX quote or TDREPORT, "
      "a vTPM event log) against "
      "OUTDIR's "
      "manifest and say why it differs (exit 0 match, 1 explained mismatch, 2 bad evidence)");
  sub->add_option("OUTDIR", a->outdir, "The build's output directory (holding manifest.json)")
      ->required();
  sub->add_option(
         "EVIDENCE", a->evidence,
         "Evidence files: SEV-SNP attestation reports (0x4a0 bytes, `snpguest report`), "
         "TDX quotes v4, TDREPORTs (1024 bytes), TPM event logs (binary_bios_measurements)")
      ->required();
  sub->add_option("--inputs", a->inputs,
                  "Where the manifest's firmware input is looked for (repeatable; needed to "
                  "search the launch parameters of a MEASUREMENT the manifest lacks)");
  sub->add_option("--cert", a->cert,
                  "The VCEK or VLEK certificate (DER or PEM) to check the report's signature with");
  sub->add_option("--chain", a->chain,
                  "AMD's certificate chain for --cert (PEM: ASK or ASVK and ARK, e.g. `snpguest "
                  "fetch ca pem`), to check the certificate against it");
  sub->add_option("--ccel", a->ccel,
                  "The TDX guest's CC event log (/sys/firmware/acpi/tables/data/CCEL), to name "
                  "the first differing event of each RTMR");
  sub->add_option("--pcrs", a->pcrs,
                  "The vTPM's PCR values for a TPM event log: `tpm2_pcrread` output, or a sysfs "
                  "pcr-<bank> directory (or a directory holding them)");
  sub->add_option("--threads", a->threads, "Threads for the search (default: every core)");
  sub->add_flag("--json", a->json, "Print the result as JSON");
  sub->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
