// CLI-side helpers of the attestation commands: reading a manifest or key
// file, writing an output or stdout, warnings, secrets from the environment.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "base/digest.h"
#include "base/secret.h"
#include "builder/manifest/json_util.h"

namespace mkguest::cli {

struct LoadedManifest {
  attest::json json;
  std::string sha256;  // hex digest of the file's bytes
  std::filesystem::path path;
};

// MANIFEST may be the manifest file or an output directory holding manifest.json.
LoadedManifest load_manifest(const std::filesystem::path& manifest_or_dir);

// Writes to `path` atomically (base/atomic_file.h: a symlink, device node or
// FIFO there is refused unless `force`, and is then replaced, never written
// through), or to stdout when `path` is empty or "-".
void write_output(const std::string& path, const std::string& text, bool force, mode_t mode = 0644);

// Prints "mkguest: warning: MESSAGE" on stderr (e.g. a key file others can read).
void warn(const std::string& message);

// The value of the environment variable `name` (a passphrase or a PIN), or
// nothing when `name` is empty. Throws UsageError when it is not set.
SecretBytes secret_from_env(const std::string& name);

}  // namespace mkguest::cli
