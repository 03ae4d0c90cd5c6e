// A human summary of a build manifest (docs/manifest.md), what `mkguest
// show OUTDIR` and the README's first command print: the artifacts, then each
// predicted value that an attestation service compares (the verity root hash,
// SNP launch digests, TDX MRTD and RTMR 1/2, vTPM PCR 4 and 11, IBM SE tags),
// grouped by platform, each group with what its values bind ("covers").
// Pure: reads only the parsed manifest.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mkguest {

struct SummaryArtifact {
  std::string file, role;
  std::uint64_t size = 0;
  std::string sha256;
};

struct SummaryValue {
  std::string label;  // "1 vCPU EPYC-Milan", "MRTD (single-pass)", "PCR 11 sha256 (initrd)"
  std::string value;  // hex
};

// One platform's values and what they bind. `binds` and `unbound` list the
// parts (firmware, kernel, initrd, cmdline, rootfs) as the manifest's
// `covers` says; both are empty when the manifest has no `covers` there.
struct SummaryGroup {
  std::string key;    // "verity", "snp", "tdx", "tpm.uki", "tpm.direct", "se"
  std::string title;  // "SEV-SNP launch digests"
  std::vector<std::string> binds, unbound;
  std::string note;  // e.g. the firmware the values are for
  std::vector<SummaryValue> values;
};

struct Summary {
  std::string name, version;
  std::vector<SummaryArtifact> artifacts;
  std::vector<SummaryGroup> groups;
  std::vector<std::string> warnings;  // parts a value leaves unbound, in words
};

// Throws InputError naming `source` when a section the summary reads has the
// wrong shape.
Summary summarize_manifest(const nlohmann::json& manifest, const std::string& source);

// The text form: a few aligned lines per group. `exports` are the export
// files present beside the manifest ("rvps-message.json"...), listed last.
std::string summary_text(const Summary& s, const std::string& outdir,
                         const std::vector<std::string>& exports);

// The same as JSON (`mkguest show --json`).
nlohmann::json summary_json(const Summary& s, const std::string& outdir,
                            const std::vector<std::string>& exports);

}  // namespace mkguest
