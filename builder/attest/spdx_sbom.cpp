// SPDX 2.3 JSON SBOM; see spdx_sbom.h.
#include "builder/attest/spdx_sbom.h"

#include <cctype>
#include <set>

#include "base/error.h"

namespace mkguest::attest {

namespace {

// SPDX ids: "SPDXRef-" then [A-Za-z0-9.-]+ (SPDX 2.3 §7.2), made unique.
std::string spdx_id(const std::string& prefix, const std::string& name,
                    std::set<std::string>* used) {
  std::string id = "SPDXRef-" + prefix + "-";
  for (char c : name)
    id += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '-';
  std::string unique = id;
  for (int n = 2; used->count(unique); ++n) unique = id + "-" + std::to_string(n);
  used->insert(unique);
  return unique;
}

json checksums(const json& entry) {
  json c = json::array();
  for (auto [key, alg] : {std::pair<const char*, const char*>{"sha256", "SHA256"},
                          {"sha384", "SHA384"},
                          {"sha512", "SHA512"}}) {
    std::string v = find_string(entry, {key});
    if (!v.empty() && is_hex(v)) c.push_back({{"algorithm", alg}, {"checksumValue", v}});
  }
  return c;
}

// SPDX 2.3 §7.5: "Organization: name (email)"; dpkg writes "Name <email>".
std::string supplier_of(const std::string& maintainer) {
  if (maintainer.empty()) return "NOASSERTION";
  std::string m = maintainer;
  auto lt = m.find('<');
  auto gt = m.rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt)
    m = m.substr(0, lt) + "(" + m.substr(lt + 1, gt - lt - 1) + ")" + m.substr(gt + 1);
  for (char& c : m)
    if (c == '\n') c = ' ';
  return "Organization: " + m;
}

}  // namespace

std::string purl_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

json spdx_sbom(const json& m, const std::vector<DpkgPackage>& packages, const SbomOptions& o,
               const std::string& source) {
  std::string name = find_string(m, {"recipe", "name"}, "image");
  std::string version = find_string(m, {"recipe", "version"});
  std::string tool = find_string(m, {"tool", "name"}, "mkguest");
  std::string tool_version = find_string(m, {"tool", "version"});
  std::set<std::string> used;
  json pkgs = json::array(), rels = json::array();

  std::string image_id = spdx_id("Image", name, &used);
  json image{{"SPDXID", image_id},
             {"name", name},
             {"downloadLocation", "NOASSERTION"},
             {"filesAnalyzed", false},
             {"primaryPackagePurpose", "OPERATING-SYSTEM"},
             {"supplier", "NOASSERTION"}};
  if (!version.empty()) image["versionInfo"] = version;
  pkgs.push_back(image);
  rels.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"},
                  {"relationshipType", "DESCRIBES"},
                  {"relatedSpdxElement", image_id}});

  const json* inputs = find(m, {"inputs"});
  if (inputs && !inputs->is_array()) throw file_error(source, "inputs is not a list");
  if (inputs) {
    for (const auto& in : *inputs) {
      std::string role = find_string(in, {"role"}, "input");
      std::string path = find_string(in, {"path"});
      std::string id = spdx_id("Input", role, &used);
      json p{{"SPDXID", id},
             {"name", path.empty() ? role : path},
             {"downloadLocation", "NOASSERTION"},
             {"filesAnalyzed", false},
             {"supplier", "NOASSERTION"},
             {"comment", "mkguest input, role " + role}};
      json c = checksums(in);
      if (!c.empty()) p["checksums"] = c;
      if (role == "kernel" || role == "loader" || role.find("firmware") != std::string::npos ||
          role.find("ovmf") != std::string::npos || role.find("stage3") != std::string::npos)
        p["primaryPackagePurpose"] = "FIRMWARE";
      else if (role.find("initrd") != std::string::npos || role.find("rootfs") != std::string::npos)
        p["primaryPackagePurpose"] = "ARCHIVE";
      else
        p["primaryPackagePurpose"] = "FILE";
      if (role == "kernel") p["primaryPackagePurpose"] = "OPERATING-SYSTEM";
      pkgs.push_back(p);
      rels.push_back({{"spdxElementId", image_id},
                      {"relationshipType", "CONTAINS"},
                      {"relatedSpdxElement", id}});
    }
  }

  for (const auto& d : packages) {
    if (!d.installed()) continue;
    std::string id = spdx_id("Deb", d.name + "-" + d.architecture, &used);
    std::string purl =
        "pkg:deb/" + o.deb_vendor + "/" + purl_encode(d.name) + "@" + purl_encode(d.version);
    if (!d.architecture.empty()) purl += "?arch=" + purl_encode(d.architecture);
    json p{{"SPDXID", id},
           {"name", d.name},
           {"versionInfo", d.version},
           {"downloadLocation", "NOASSERTION"},
           {"filesAnalyzed", false},
           {"primaryPackagePurpose", "LIBRARY"},
           {"supplier", supplier_of(d.maintainer)},
           {"externalRefs", json::array({{{"referenceCategory", "PACKAGE-MANAGER"},
                                          {"referenceType", "purl"},
                                          {"referenceLocator", purl}}})}};
    if (!d.homepage.empty()) p["homepage"] = d.homepage;
    if (!d.source.empty()) p["sourceInfo"] = "built from Debian source package " + d.source;
    pkgs.push_back(p);
    rels.push_back({{"spdxElementId", image_id},
                    {"relationshipType", "CONTAINS"},
                    {"relatedSpdxElement", id}});
  }

  std::string ns_name = name + (version.empty() ? "" : "-" + version);
  return json{
      {"spdxVersion", "SPDX-2.3"},
      {"dataLicense", "CC0-1.0"},
      {"SPDXID", "SPDXRef-DOCUMENT"},
      {"name", ns_name},
      {"documentNamespace", "https://mkguest.dev/spdx/" + purl_encode(ns_name) + "-" +
                                (o.manifest_sha256.empty() ? "unknown" : o.manifest_sha256)},
      {"creationInfo",
       {{"created", rfc3339_utc(manifest_epoch(m))},
        {"creators", json::array({"Tool: " + tool + "-" + tool_version})}}},
      {"packages", pkgs},
      {"relationships", rels}};
}

}  // namespace mkguest::attest
