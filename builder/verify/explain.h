// `mkguest explain`: evidence from a running guest held against a build's
// manifest. Each evidence file gives a list of checks (measurement, host data,
// policy, signature); a check that does not match says why, in terms of the
// recipe's inputs. For an SEV-SNP MEASUREMENT that is not in the manifest the
// neighbourhood of the recorded launch parameters is searched
// (explain_snp_search.h) and the parameters that reproduce it are named.
#pragma once

#include <string>
#include <vector>

#include "builder/formats/evidence/pcr_values.h"
#include "builder/formats/evidence/snp_report.h"
#include "builder/formats/evidence/tcg_log.h"
#include "builder/formats/evidence/tdx_quote.h"
#include "builder/manifest/json_util.h"
#include "builder/verify/verify.h"

namespace mkguest::attest {

enum class ExplainStatus { kMatch, kMismatch, kNotChecked };
const char* explain_status_name(ExplainStatus s);  // "match", "mismatch", "not checked"

struct ExplainCheck {
  std::string name;  // "measurement", "host_data", "policy", "signature"
  ExplainStatus status = ExplainStatus::kNotChecked;
  std::string expected;           // the manifest's value (hex, or a word), when there is one
  std::string actual;             // the evidence's value
  std::vector<std::string> why;   // the explanation, one sentence a line
  json details = json::object();  // machine-readable: e.g. the parameters found
};

struct ExplainResult {
  std::string evidence;  // the file's name, for messages
  std::string kind;      // "snp-report"
  std::vector<ExplainCheck> checks;
  // No check is a mismatch.
  bool matches() const;
};

struct ExplainOptions {
  unsigned threads = 0;  // 0: every core (std::thread::hardware_concurrency)
  // The VCEK or VLEK certificate (DER or PEM) that signed the report; empty:
  // the signature is reported as not checked.
  Bytes certificate;
  std::string certificate_name;
  // AMD's certificate chain for it (PEM: the ASK or ASVK and the ARK, as
  // AMD's KDS cert_chain or `snpguest fetch ca pem` give it); empty: the
  // certificate is not checked against a chain.
  Bytes chain;
  std::string chain_name;
};

// An SNP report against the manifest of ctx (its firmware input is found
// through ctx.input_dirs, as `verify` finds it). Never throws for a mismatch;
// throws InputError only for a manifest or firmware it cannot read.
ExplainResult explain_snp_report(const VerifyContext& ctx, const evidence::SnpReport& report,
                                 const std::string& evidence_name, const ExplainOptions& opts);

// A TDX quote against measurements.tdx: MRTD against both page-add orders,
// RTMR 0-2 against the prediction, MRCONFIGID against the init-data binding.
// With the guest's CCEL event log (`ccel`, empty: none), a differing RTMR is
// explained by the first differing event per register, and a log whose replay
// is not the quote's RTMRs is named. The quote's signature is not checked.
// `kind` "tdx-report" for a TDREPORT's fields (evidence::TdxReport::body),
// whose MAC is not checked either.
ExplainResult explain_tdx_quote(const VerifyContext& ctx, const evidence::TdxQuote& quote,
                                const std::string& evidence_name, const Bytes& ccel,
                                const std::string& ccel_name,
                                const std::string& kind = "tdx-quote");

// A vTPM's firmware event log against measurements.tpm: PCR 4, 9, 11 and 12
// (the quoted value, or the log's replay when `quoted` is empty) against the
// prediction; a differing one is explained by the first differing event of
// that PCR, held against predict_uki_events for OUTDIR's UKI (both boot
// paths; the one that agrees longest is named). With quoted values, each PCR
// the log replays is compared with them ("event_log"); PCR 11 may carry
// systemd-pcrphase's words on top. No signature is checked.
ExplainResult explain_tpm_log(const VerifyContext& ctx, const evidence::TpmEventLog& log,
                              const evidence::PcrValues& quoted, const std::string& log_name,
                              const std::string& pcrs_name);

// The report's ECDSA P-384 signature over bytes 0x000..0x29F, checked with the
// public key of `certificate` (DER or PEM), and, with `chain`, the certificate
// against the chain's ASK/ASVK up to its self-signed ARK (keys::
// verify_certificate_chain). Empty certificate: "not checked".
ExplainCheck check_snp_signature(const evidence::SnpReport& report, const Bytes& certificate,
                                 const std::string& certificate_name, const Bytes& chain = {},
                                 const std::string& chain_name = {});

// The results as the text `explain` prints, and as its --json document.
std::string explain_text(const std::vector<ExplainResult>& results);
json explain_json(const std::vector<ExplainResult>& results);

}  // namespace mkguest::attest
