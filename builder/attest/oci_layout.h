// An OCI image layout (opencontainers/image-spec v1.1: image-layout.md,
// manifest.md "Guidelines for Artifact Usage") holding one artifact: the
// files of an output directory, each a layer with its own media type and an
// org.opencontainers.image.title annotation (the file name, which `oras pull`
// restores), the empty config (application/vnd.oci.empty.v1+json) and an
// explicit artifactType. Layout:
//   DIR/oci-layout   {"imageLayoutVersion":"1.0.0"}
//   DIR/index.json   one manifest descriptor, annotated with the ref name (tag)
//   DIR/blobs/sha256/<hex>  the files, the empty config, the manifest
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/manifest/json_util.h"

namespace mkguest::attest {

inline constexpr const char* kArtifactType = "application/vnd.mkguest.guest-image.v1";

struct OciFile {
  std::filesystem::path path;  // where the bytes are
  std::string name;            // the title annotation (file name relative to OUTDIR)
  std::string media_type;
};

struct OciOptions {
  std::string tag = "latest";  // org.opencontainers.image.ref.name in index.json
  std::int64_t created = 0;    // SOURCE_DATE_EPOCH, for org.opencontainers.image.created
  std::string version;         // org.opencontainers.image.version (optional)
};

// The media type of an output file, from its manifest role or its name.
std::string oci_media_type(const std::string& name, const std::string& role);

// The files of an output directory with their media types: every regular
// file in it (sorted by name), with roles taken from the manifest's outputs.
std::vector<OciFile> oci_files_of_outdir(const std::filesystem::path& outdir, const json& manifest);

// Writes (or adds to) the layout in `dir`; returns the manifest descriptor.
json write_oci_layout(const std::filesystem::path& dir, const std::vector<OciFile>& files,
                      const OciOptions& options);

}  // namespace mkguest::attest
