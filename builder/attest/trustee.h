// Trustee (confidential-containers/trustee) exports of a manifest:
//  - the RVPS "sample" message {"version":"0.1.0","type":"sample","payload":<base64 JSON>},
//    whose payload maps reference-value names to JSON values with the names and
//    types the default EAR policy (ear_default_policy_cpu.rego) expects: a list
//    where the policy uses `in`, a typed scalar where it uses `==`;
//  - the same values under namespaced ids rvps:///<namespace>/<image>/<platform>/<name>:<version>
//    for custom policies (no mixing of values from two images);
//  - a kbs-client script registering the same values through the KBS admin API;
//  - for IBM SE, a Rego snippet pinning se.tag and se.image_phkh.
// Layout and names: docs/attestation.md "Trustee".
#pragma once

#include <string>

#include "builder/manifest/json_util.h"

namespace mkguest::attest {

struct TrusteeOptions {
  std::string ns = "mkguest.local";  // first part(s) of the rvps:/// ids; may contain '/'
  std::string image;                 // default: recipe.name
  std::string version;               // default: recipe.version
  // Publish SNP launch digests that bind no kernel (measurements.snp.covers
  // .kernel false); refused by default.
  bool allow_unbound_kernel = false;
};

// The reference values (the payload before base64). Throws InputError (source
// `source`) when a platform section holds a value of the wrong shape.
json trustee_reference_values(const json& manifest, const TrusteeOptions& options,
                              const std::string& source);

// {"version":"0.1.0","type":"sample","payload":base64(canonical_json(values))}.
json trustee_message(const json& reference_values);

// A POSIX sh script that registers every value with
// `kbs-client ... config set-sample-reference-value`. Lists of more than one
// element cannot be expressed that way (kbs-client wraps a single value); they
// are listed in a comment pointing to the RVPS message, and counted in *skipped.
std::string kbs_client_script(const json& reference_values, const std::string& title, int* skipped);

// A Rego module pinning the SE image (se.version, se.tag, se.image_phkh), or
// an empty string when the manifest has no SE section.
std::string se_policy_snippet(const json& manifest, const std::string& title);

// The rvps:/// id of one value.
std::string rvps_id(const TrusteeOptions& options, const std::string& platform,
                    const std::string& name);

}  // namespace mkguest::attest
