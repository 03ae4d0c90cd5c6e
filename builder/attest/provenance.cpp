// in-toto/SLSA provenance and the reference-values statement; see provenance.h.
#include "builder/attest/provenance.h"

#include "base/error.h"

namespace mkguest::attest {

namespace {

json digests_of(const json& entry, const std::string& where, const std::string& source) {
  json d = json::object();
  for (const char* alg : {"sha256", "sha384", "sha512"}) {
    std::string v = find_string(entry, {alg});
    if (v.empty()) continue;
    if (!is_hex(v)) throw file_error(source, where + "." + alg + " is not hex");
    d[alg] = v;
  }
  if (d.empty()) throw file_error(source, where + " has no sha256 digest");
  return d;
}

const json& list_at(const json& manifest, const char* key, const std::string& source) {
  static const json kEmpty = json::array();
  const json* v = find(manifest, {key});
  if (!v) return kEmpty;
  if (!v->is_array()) throw file_error(source, std::string(key) + " is not a list");
  return *v;
}

std::string tool_name(const json& m) { return find_string(m, {"tool", "name"}, "mkguest"); }
std::string tool_version(const json& m) { return find_string(m, {"tool", "version"}); }

json platforms_of(const json& m) {
  json p = json::array();
  if (const json* meas = find(m, {"measurements"}); meas && meas->is_object())
    for (const auto& [k, v] : meas->items()) p.push_back(k);
  return p;
}

json byproducts(const ProvenanceOptions& o) {
  json b = json::array();
  if (!o.manifest_sha256.empty())
    b.push_back({{"name", o.manifest_name},
                 {"digest", {{"sha256", o.manifest_sha256}}},
                 {"mediaType", kManifestPayloadType}});
  return b;
}

}  // namespace

json statement_subjects(const json& manifest, const std::string& source) {
  json subjects = json::array();
  std::size_t i = 0;
  for (const auto& out : list_at(manifest, "outputs", source)) {
    std::string where = "outputs[" + std::to_string(i++) + "]";
    std::string file = find_string(out, {"file"});
    if (file.empty()) throw file_error(source, where + " has no file");
    subjects.push_back({{"name", file}, {"digest", digests_of(out, where, source)}});
  }
  if (subjects.empty()) throw file_error(source, "the manifest lists no outputs");
  return subjects;
}

json slsa_provenance_statement(const json& m, const ProvenanceOptions& o,
                               const std::string& source) {
  json recipe = json::object();
  if (const json* r = find(m, {"recipe"}); r && r->is_object()) {
    recipe["path"] = find_string(*r, {"path"});
    std::string sha = find_string(*r, {"sha256"});
    if (!sha.empty()) recipe["digest"] = {{"sha256", sha}};
    for (const char* k : {"name", "version"})
      if (std::string v = find_string(*r, {k}); !v.empty()) recipe[k] = v;
  }
  json deps = json::array();
  std::size_t i = 0;
  for (const auto& in : list_at(m, "inputs", source)) {
    std::string where = "inputs[" + std::to_string(i++) + "]";
    json d{{"name", find_string(in, {"path"})}, {"digest", digests_of(in, where, source)}};
    json ann = json::object();
    if (std::string role = find_string(in, {"role"}); !role.empty()) ann["role"] = role;
    if (const json* size = find(in, {"size"}); size && size->is_number_integer())
      ann["size"] = *size;
    if (!ann.empty()) d["annotations"] = ann;
    deps.push_back(d);
  }
  deps.push_back({{"uri", "pkg:generic/" + tool_name(m) + "@" + tool_version(m)},
                  {"name", tool_name(m)},
                  {"annotations", {{"role", "tool"}, {"version", tool_version(m)}}}});
  json internal = json::object();
  if (const json* sde = find(m, {"source_date_epoch"})) internal["source_date_epoch"] = *sde;
  if (const json* c = find(m, {"cmdline"})) internal["cmdline"] = *c;
  json predicate{
      {"buildDefinition",
       {{"buildType", kBuildType},
        {"externalParameters", {{"recipe", recipe}, {"platforms", platforms_of(m)}}},
        {"internalParameters", internal},
        {"resolvedDependencies", deps}}},
      {"runDetails", {{"builder", {{"id", o.builder_id}}}, {"byproducts", byproducts(o)}}}};
  return json{{"_type", kStatementType},
              {"subject", statement_subjects(m, source)},
              {"predicateType", kSlsaProvenanceType},
              {"predicate", predicate}};
}

json reference_values_statement(const json& m, const ProvenanceOptions& o,
                                const std::string& source) {
  const json* meas = find(m, {"measurements"});
  if (!meas || !meas->is_object() || meas->empty())
    throw file_error(source, "the manifest has no measurements");
  json predicate{{"measurements", *meas},
                 {"tool", {{"name", tool_name(m)}, {"version", tool_version(m)}}}};
  if (const json* r = find(m, {"recipe"})) predicate["recipe"] = *r;
  if (const json* c = find(m, {"cmdline"})) predicate["cmdline"] = *c;
  if (const json* v = find(m, {"verity"})) predicate["verity"] = *v;
  if (!o.manifest_sha256.empty())
    predicate["manifest"] = {{"name", o.manifest_name},
                             {"digest", {{"sha256", o.manifest_sha256}}}};
  return json{{"_type", kStatementType},
              {"subject", statement_subjects(m, source)},
              {"predicateType", kReferenceValuesType},
              {"predicate", predicate}};
}

}  // namespace mkguest::attest
