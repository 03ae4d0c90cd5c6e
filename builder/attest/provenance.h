// Supply-chain statements about a build, from its manifest:
//  - an in-toto Statement v1 (https://in-toto.io/Statement/v1) with an SLSA
//    provenance v1 predicate (https://slsa.dev/provenance/v1): subjects = every
//    output with its digests; buildType = kBuildType; externalParameters = the
//    recipe and its digest; resolvedDependencies = every input with its digest,
//    plus the tool and its version; byproducts = the manifest;
//  - an in-toto Statement v1 with mkguest's reference-values predicate
//    (kReferenceValuesType), carrying the manifest's measurements.
// Both documented in docs/attestation.md.
#pragma once

#include <string>

#include "builder/manifest/json_util.h"

namespace mkguest::attest {

inline constexpr const char* kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr const char* kSlsaProvenanceType = "https://slsa.dev/provenance/v1";
inline constexpr const char* kBuildType = "https://mkguest.dev/buildtypes/recipe/v1";
inline constexpr const char* kReferenceValuesType = "https://mkguest.dev/reference-values/v1";
inline constexpr const char* kDefaultBuilderId = "https://mkguest.dev/builders/local";
inline constexpr const char* kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr const char* kManifestPayloadType = "application/vnd.mkguest.manifest.v1+json";

struct ProvenanceOptions {
  std::string builder_id = kDefaultBuilderId;
  std::string manifest_name = "manifest.json";  // byproduct name
  std::string manifest_sha256;                  // hex digest of the manifest bytes
};

// The subjects: every output {"name": file, "digest": {"sha256":..,"sha384":..}}.
// Throws InputError (naming `source`) when an output has no file or digest.
json statement_subjects(const json& manifest, const std::string& source);

json slsa_provenance_statement(const json& manifest, const ProvenanceOptions& options,
                               const std::string& source);

json reference_values_statement(const json& manifest, const ProvenanceOptions& options,
                                const std::string& source);

}  // namespace mkguest::attest
