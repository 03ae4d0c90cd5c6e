// Shared helpers of the attestation exports (Trustee, provenance, signing,
// SBOM, OCI, verify): canonical JSON text, defensive reads of a manifest, RFC 3339 time.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"
#include "base/encoding.h"
#include "builder/manifest/manifest.h"

namespace mkguest::attest {

using json = nlohmann::json;

// The one canonical JSON serialiser (builder/manifest/manifest.h).
using mkguest::canonical_json;

// Parses manifest text. Throws InputError naming `source` when it is not JSON,
// not an object, or has a manifest_version other than kManifestVersion.
json parse_manifest(std::string_view text, const std::string& source);

// value[k0][k1]... or nullptr when any step is missing or not an object.
const json* find(const json& value, std::initializer_list<std::string_view> path);
// The string at `path`, or `fallback`.
std::string find_string(const json& value, std::initializer_list<std::string_view> path,
                        const std::string& fallback = {});

// Every string in a value, depth first (objects in key order), lower-cased,
// without duplicates: "x" -> [x]; [a,[b]] -> [a,b]; {"k1":a,"k2":b} -> [a,b].
std::vector<std::string> collect_strings(const json& value);

// "2023-11-14T22:13:20Z" for a Unix time (UTC, seconds).
std::string rfc3339_utc(std::int64_t epoch);

// The manifest's source_date_epoch, or 0 when absent.
std::int64_t manifest_epoch(const json& manifest);

}  // namespace mkguest::attest
