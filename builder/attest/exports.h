// Writing the attestation exports of a finished build into its directory:
// what the recipe's `exports` section asks for, and the Trustee SE files the
// `mkguest export trustee --se-dir` command writes. File names:
//   rvps-message.json, kbs-client.sh, se/hdr.bin, se/se-policy.rego (Trustee),
//   provenance.intoto.json, reference-values.intoto.json (provenance),
//   sbom.spdx.json (SBOM), corim.cbor (unsigned CoRIM, docs/corim.md),
//   corim.cose (the CoRIM signed, with `exports.corim.sign`).
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "base/secret.h"
#include "builder/manifest/json_util.h"
#include "recipes/recipe.h"

namespace mkguest::attest {

// Writes dir/hdr.bin (the SE header, from the SE image among the outputs in
// `outdir`; its tag must be the manifest's se.tag) and dir/se-policy.rego.
// Returns false (and writes nothing) when the manifest has no SE measurements.
bool write_se_trustee_files(const json& manifest, const std::filesystem::path& outdir,
                            const std::filesystem::path& dir, const std::string& title);

// What the exports need that only the CLI may resolve: the passphrase or
// token PIN of `exports.corim.sign` (read from its pin_env), and where key-file
// warnings go.
struct ExportSecrets {
  SecretBytes corim_secret;
  std::function<void(const std::string&)> warn;
};

// The recipe's exports for the manifest text written in `outdir`.
void write_recipe_exports(const recipe::ExportsSpec& spec, const std::string& manifest_text,
                          const std::filesystem::path& outdir, const ExportSecrets& secrets = {});

}  // namespace mkguest::attest
