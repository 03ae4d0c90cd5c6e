// The build manifest (docs/manifest.md): what went in, what came out, the
// exact cmdline and the expected measurements. Serialised as canonical JSON:
// keys sorted, two-space indent, "\n" at the end, so it is reproducible too.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "base/digest.h"

namespace mkguest {

inline constexpr int kManifestVersion = 1;

class Manifest {
 public:
  Manifest();

  void set_tool(const std::string& version);
  void set_recipe(const std::string& path, const Bytes& sha256, const std::string& name,
                  const std::string& version, const std::vector<std::string>& overrides);
  void set_source_date(std::int64_t epoch, const std::string& origin);
  void add_input(const std::string& role, const std::string& path, std::uint64_t size,
                 const Bytes& sha256);
  void add_output(const std::string& role, const std::string& file, std::uint64_t size,
                  const Bytes& sha256, const Bytes& sha384);
  void set_cmdline(const std::string& cmdline);

  // measurements.<platform>: filled by the measurement stages.
  nlohmann::json& measurements() { return doc_["measurements"]; }
  // Any other top-level section (e.g. "verity", "uki").
  nlohmann::json& section(const std::string& name) { return doc_[name]; }
  const nlohmann::json& json() const { return doc_; }

  std::string canonical() const;

 private:
  nlohmann::json doc_;
};

// Canonical text of any JSON value (sorted keys, 2-space indent, final newline).
std::string canonical_json(const nlohmann::json& j);

}  // namespace mkguest
