// An SPDX 2.3 JSON SBOM (spdx.github.io/spdx-spec/v2.3) of a build: one
// package for the image, CONTAINS one package per manifest input (kernel,
// initrd, firmware, loader...: name, role, sha256/sha384 checksums) and one per
// installed Debian package of the rootfs's dpkg status file (name, version,
// architecture, purl pkg:deb/<vendor>/<name>@<version>?arch=<arch>).
// Deterministic: created = source_date_epoch; documentNamespace derived from
// the manifest digest.
#pragma once

#include <string>
#include <vector>

#include "builder/fstree/dpkg_status.h"
#include "builder/manifest/json_util.h"

namespace mkguest::attest {

struct SbomOptions {
  std::string manifest_sha256;        // hex; part of the document namespace
  std::string deb_vendor = "debian";  // purl namespace of dpkg packages
};

json spdx_sbom(const json& manifest, const std::vector<DpkgPackage>& packages,
               const SbomOptions& options, const std::string& source);

// purl percent-encoding of a version or name (RFC 3986 unreserved kept).
std::string purl_encode(const std::string& s);

}  // namespace mkguest::attest
