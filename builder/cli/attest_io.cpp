// CLI-side helpers of the attestation commands; see attest_io.h.
#include "builder/cli/attest_io.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/file.h"

namespace mkguest::cli {

namespace fs = std::filesystem;

LoadedManifest load_manifest(const fs::path& arg) {
  LoadedManifest m;
  std::error_code ec;
  m.path = fs::is_directory(arg, ec) ? arg / "manifest.json" : arg;
  if (!fs::is_regular_file(m.path, ec)) throw file_error(m.path.string(), "no such manifest file");
  Bytes bytes = read_file(m.path);
  m.sha256 = to_hex(digest(HashAlg::kSha256, bytes));
  m.json = attest::parse_manifest(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), m.path.string());
  return m;
}

void write_output(const std::string& path, const std::string& text, bool force, mode_t mode) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return;
  }
  fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  write_file_atomic(p, text, force, mode);
}

void warn(const std::string& message) { std::cerr << "mkguest: warning: " << message << "\n"; }

SecretBytes secret_from_env(const std::string& name) {
  if (name.empty()) return {};
  const char* v = std::getenv(name.c_str());
  if (!v) throw UsageError("environment variable " + name + " is not set");
  return SecretBytes(std::string_view(v));
}

}  // namespace mkguest::cli
