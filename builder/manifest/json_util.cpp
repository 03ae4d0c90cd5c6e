// Helpers of the attestation exports; see attest_util.h.
#include "builder/manifest/json_util.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "base/error.h"

namespace mkguest::attest {

namespace {
void collect(const json& v, std::vector<std::string>* out) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (std::find(out->begin(), out->end(), s) == out->end()) out->push_back(std::move(s));
  } else if (v.is_array() || v.is_object()) {
    for (const auto& e : v) collect(e, out);
  }
}
}  // namespace

json parse_manifest(std::string_view text, const std::string& source) {
  json m = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded()) throw file_error(source, "not valid JSON");
  if (!m.is_object()) throw file_error(source, "a manifest is a JSON object");
  const json* v = find(m, {"manifest_version"});
  if (!v || !v->is_number_integer() || v->get<std::int64_t>() != kManifestVersion)
    throw file_error(source, "unsupported manifest_version (this mkguest reads version " +
                                 std::to_string(kManifestVersion) + ")");
  return m;
}

const json* find(const json& value, std::initializer_list<std::string_view> path) {
  const json* cur = &value;
  for (auto key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(std::string(key));
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string find_string(const json& value, std::initializer_list<std::string_view> path,
                        const std::string& fallback) {
  const json* v = find(value, path);
  return v && v->is_string() ? v->get<std::string>() : fallback;
}

std::vector<std::string> collect_strings(const json& value) {
  std::vector<std::string> out;
  collect(value, &out);
  return out;
}

std::string rfc3339_utc(std::int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t manifest_epoch(const json& manifest) {
  const json* v = find(manifest, {"source_date_epoch"});
  return v && v->is_number_integer() ? v->get<std::int64_t>() : 0;
}

}  // namespace mkguest::attest
