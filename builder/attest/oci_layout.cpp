// OCI image-layout artifact writer; see oci_layout.h.
#include "builder/attest/oci_layout.h"

#include <algorithm>
#include <fstream>

#include "base/error.h"
#include "base/file.h"

namespace mkguest::attest {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";
constexpr const char* kEmptyType = "application/vnd.oci.empty.v1+json";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Writes `data` as a blob; returns its descriptor fields.
json put_blob(const fs::path& dir, std::span<const std::uint8_t> data, const std::string& type) {
  std::string hex = to_hex(digest(HashAlg::kSha256, data));
  fs::path p = dir / "blobs" / "sha256" / hex;
  std::error_code ec;
  if (!fs::exists(p, ec)) write_file(p, data);
  return json{{"mediaType", type}, {"digest", "sha256:" + hex}, {"size", data.size()}};
}

json put_file_blob(const fs::path& dir, const OciFile& f) {
  MappedFile m(f.path);
  json d = put_blob(dir, m.bytes(), f.media_type);
  d["annotations"] = {{"org.opencontainers.image.title", f.name}};
  return d;
}

}  // namespace

std::string oci_media_type(const std::string& name, const std::string& role) {
  if (name == "manifest.json") return "application/vnd.mkguest.manifest.v1+json";
  if (ends_with(name, ".dsse.json")) return "application/vnd.dsse.envelope.v1+json";
  if (ends_with(name, ".intoto.json")) return "application/vnd.in-toto+json";
  if (ends_with(name, ".spdx.json")) return "application/spdx+json";
  if (name == "rvps-message.json" || ends_with(name, ".rvps.json"))
    return "application/vnd.mkguest.trustee.rvps-message.v1+json";
  if (ends_with(name, ".sh")) return "text/x-shellscript";
  if (ends_with(name, ".rego")) return "application/vnd.mkguest.rego";
  if (!role.empty()) {
    std::string r;
    for (char c : role)
      r += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')
               ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
               : '-';
    return "application/vnd.mkguest." + r + ".v1";
  }
  if (ends_with(name, ".json")) return "application/json";
  if (ends_with(name, ".txt")) return "text/plain";
  return "application/octet-stream";
}

std::vector<OciFile> oci_files_of_outdir(const fs::path& outdir, const json& manifest) {
  std::vector<OciFile> files;
  std::error_code ec;
  if (!fs::is_directory(outdir, ec)) throw file_error(outdir.string(), "not a directory");
  for (auto it = fs::recursive_directory_iterator(outdir); it != fs::recursive_directory_iterator();
       ++it) {
    if (!it->is_regular_file() || it->is_symlink()) continue;
    std::string name = fs::relative(it->path(), outdir).generic_string();
    std::string role;
    if (const json* outs = find(manifest, {"outputs"}); outs && outs->is_array())
      for (const auto& o : *outs)
        if (find_string(o, {"file"}) == name) role = find_string(o, {"role"});
    files.push_back({it->path(), name, oci_media_type(name, role)});
  }
  std::sort(files.begin(), files.end(),
            [](const OciFile& a, const OciFile& b) { return a.name < b.name; });
  return files;
}

json write_oci_layout(const fs::path& dir, const std::vector<OciFile>& files, const OciOptions& o) {
  if (files.empty()) throw ValueError("no files to put into the OCI layout");
  fs::create_directories(dir / "blobs" / "sha256");
  write_file(dir / "oci-layout", std::string("{\"imageLayoutVersion\":\"1.0.0\"}"));

  json layers = json::array();
  for (const auto& f : files) layers.push_back(put_file_blob(dir, f));
  static const std::string kEmpty = "{}";
  json config = put_blob(dir, as_bytes(kEmpty), kEmptyType);
  config["data"] = base64_encode(kEmpty);
  json annotations{{"org.opencontainers.image.created", rfc3339_utc(o.created)}};
  if (!o.version.empty()) annotations["org.opencontainers.image.version"] = o.version;
  json manifest{{"schemaVersion", 2}, {"mediaType", kManifestType}, {"artifactType", kArtifactType},
                {"config", config},   {"layers", layers},           {"annotations", annotations}};
  std::string text = manifest.dump();
  json desc = put_blob(dir, as_bytes(text), kManifestType);
  desc["artifactType"] = kArtifactType;
  desc["annotations"] = {{"org.opencontainers.image.ref.name", o.tag}};

  // index.json: keep other tags' entries, replace this tag's.
  json index{{"schemaVersion", 2}, {"mediaType", kIndexType}, {"manifests", json::array()}};
  std::error_code ec;
  if (fs::exists(dir / "index.json", ec)) {
    json old = json::parse(read_text_file(dir / "index.json"), nullptr, false);
    if (old.is_discarded() || !old.is_object() || !find(old, {"manifests"}) ||
        !old["manifests"].is_array())
      throw file_error((dir / "index.json").string(), "not an OCI index");
    for (const auto& m : old["manifests"])
      if (find_string(m, {"annotations", "org.opencontainers.image.ref.name"}) != o.tag)
        index["manifests"].push_back(m);
  }
  index["manifests"].push_back(desc);
  write_file(dir / "index.json", index.dump());
  return desc;
}

}  // namespace mkguest::attest
