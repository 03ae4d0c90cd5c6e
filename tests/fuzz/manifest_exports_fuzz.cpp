// Fuzz target: a manifest as `mkguest export trustee|provenance` reads it
// (builder/attest): parse_manifest, then the Trustee reference values, the
// RVPS message, the kbs-client script, the SE Rego snippet and both in-toto
// statements. A manifest is user input here (any OUTDIR, any file named on
// the command line): each step must succeed or throw a mkguest Error.
// Seeds (tests/corpus/manifest_exports/): the golden manifests of the
// minimal and debian-verity-uki examples, and the latter with SNP, TDX and
// SE sections added.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "builder/attest/provenance.h"
#include "builder/attest/trustee.h"
#include "builder/manifest/json_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mkguest;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  attest::json m;
  try {
    m = attest::parse_manifest(text, "manifest.json");
  } catch (const Error&) {
    return 0;
  }
  for (bool allow : {false, true}) {
    try {
      attest::TrusteeOptions o;
      o.allow_unbound_kernel = allow;
      attest::json values = attest::trustee_reference_values(m, o, "manifest.json");
      attest::trustee_message(values);
      int skipped = 0;
      attest::kbs_client_script(values, "fuzz", &skipped);
    } catch (const Error&) {
    }
  }
  try {
    attest::se_policy_snippet(m, "fuzz");
  } catch (const Error&) {
  }
  try {
    attest::ProvenanceOptions o;
    o.manifest_sha256 = std::string(64, '0');
    attest::slsa_provenance_statement(m, o, "manifest.json");
    attest::reference_values_statement(m, o, "manifest.json");
  } catch (const Error&) {
  }
  return 0;
}
