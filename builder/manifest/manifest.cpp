#include "builder/manifest/manifest.h"

#include <algorithm>

namespace mkguest {

Manifest::Manifest() {
  doc_["manifest_version"] = kManifestVersion;
  doc_["inputs"] = nlohmann::json::array();
  doc_["outputs"] = nlohmann::json::array();
  doc_["measurements"] = nlohmann::json::object();
}

void Manifest::set_tool(const std::string& version) {
  doc_["tool"] = {{"name", "mkguest"}, {"version", version}};
}

void Manifest::set_recipe(const std::string& path, const Bytes& sha256, const std::string& name,
                          const std::string& version, const std::vector<std::string>& overrides) {
  doc_["recipe"] = {
      {"path", path}, {"sha256", to_hex(sha256)}, {"name", name}, {"version", version}};
  // Only when there are some, so manifests of plain builds keep their shape.
  if (!overrides.empty()) doc_["recipe"]["overrides"] = overrides;
}

void Manifest::set_source_date(std::int64_t epoch, const std::string& origin) {
  doc_["source_date_epoch"] = epoch;
  doc_["source_date_origin"] = origin;
}

void Manifest::add_input(const std::string& role, const std::string& path, std::uint64_t size,
                         const Bytes& sha256) {
  auto& in = doc_["inputs"];
  in.push_back({{"role", role}, {"path", path}, {"size", size}, {"sha256", to_hex(sha256)}});
  std::stable_sort(in.begin(), in.end(), [](const auto& a, const auto& b) {
    return std::tie(a["role"], a["path"]) < std::tie(b["role"], b["path"]);
  });
}

void Manifest::add_output(const std::string& role, const std::string& file, std::uint64_t size,
                          const Bytes& sha256, const Bytes& sha384) {
  auto& out = doc_["outputs"];
  out.push_back({{"role", role},
                 {"file", file},
                 {"size", size},
                 {"sha256", to_hex(sha256)},
                 {"sha384", to_hex(sha384)}});
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a["file"] < b["file"]; });
}

void Manifest::set_cmdline(const std::string& cmdline) { doc_["cmdline"] = cmdline; }

std::string Manifest::canonical() const { return canonical_json(doc_); }

std::string canonical_json(const nlohmann::json& j) {
  // nlohmann::json keeps object keys in a std::map: sorted bytewise.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::strict) + "\n";
}

}  // namespace mkguest
