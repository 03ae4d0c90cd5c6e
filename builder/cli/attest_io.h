// CLI-side helpers of the attestation commands: reading a manifest or key
// file, writing an output or stdout, key-file permission warnings.
#pragma once

#include <filesystem>
#include <string>

#include "base/digest.h"
#include "builder/manifest/json_util.h"

namespace mkguest::cli {

struct LoadedManifest {
  attest::json json;
  std::string sha256;  // hex digest of the file's bytes
  std::filesystem::path path;
};

// MANIFEST may be the manifest file or an output directory holding manifest.json.
LoadedManifest load_manifest(const std::filesystem::path& manifest_or_dir);

// Writes to `path`, or to stdout when `path` is empty or "-".
void write_output(const std::string& path, const std::string& text);

// Reads a secret file (key): warns on stderr when group/other may read it.
// The caller wipes the returned bytes with OPENSSL_cleanse.
Bytes read_secret_file(const std::filesystem::path& path);

}  // namespace mkguest::cli
