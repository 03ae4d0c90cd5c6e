// A parser for dpkg's status database (/var/lib/dpkg/status, deb822 control
// syntax, man deb822(5)/dpkg(1)): paragraphs separated by blank lines; each
// field "Name: value" with continuation lines starting with a space or tab.
// Errors name the source and line: "status:12: error: ...".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mkguest::attest {

struct DpkgPackage {
  std::string name, version, architecture, status, source, homepage, maintainer, license_hint;
  bool installed() const;  // Status "... installed" (the third word)
};

// Every paragraph that has a Package field, in file order. Throws InputError on
// malformed lines, on a paragraph without Package, or on a missing Version in
// an installed package.
std::vector<DpkgPackage> parse_dpkg_status(std::span<const std::uint8_t> text,
                                           const std::string& source);

}  // namespace mkguest::attest
