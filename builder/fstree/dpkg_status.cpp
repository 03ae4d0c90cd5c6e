// dpkg status parser; see dpkg_status.h.
#include "builder/fstree/dpkg_status.h"

#include <cctype>
#include <string_view>

#include "base/error.h"

namespace mkguest::attest {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

struct Paragraph {
  std::size_t line = 0;  // first line
  std::vector<std::pair<std::string, std::string>> fields;
  const std::string* get(std::string_view name) const {
    for (const auto& [k, v] : fields)
      if (iequals(k, name)) return &v;
    return nullptr;
  }
};

void finish(Paragraph& p, const std::string& source, std::vector<DpkgPackage>* out) {
  if (p.fields.empty()) return;
  const std::string* name = p.get("Package");
  if (!name || name->empty())
    throw InputError(source, std::to_string(p.line), "paragraph without a Package field");
  DpkgPackage pkg;
  pkg.name = *name;
  auto set = [&](const char* field, std::string* dst) {
    if (const std::string* v = p.get(field)) *dst = *v;
  };
  set("Version", &pkg.version);
  set("Architecture", &pkg.architecture);
  set("Status", &pkg.status);
  set("Source", &pkg.source);
  set("Homepage", &pkg.homepage);
  set("Maintainer", &pkg.maintainer);
  if (pkg.installed() && pkg.version.empty())
    throw InputError(source, std::to_string(p.line),
                     "installed package '" + pkg.name + "' has no Version");
  out->push_back(std::move(pkg));
  p = Paragraph{};
}

}  // namespace

bool DpkgPackage::installed() const {
  // "want flag status", e.g. "install ok installed"; "deinstall ok config-files" is not.
  auto pos = status.find_last_of(' ');
  std::string_view last = pos == std::string::npos ? std::string_view(status)
                                                   : std::string_view(status).substr(pos + 1);
  return last == "installed";
}

std::vector<DpkgPackage> parse_dpkg_status(std::span<const std::uint8_t> bytes,
                                           const std::string& source) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::vector<DpkgPackage> out;
  Paragraph p;
  std::size_t lineno = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++lineno;
    if (line.find('\0') != std::string_view::npos)
      throw InputError(source, std::to_string(lineno), "NUL byte in a text database");
    if (trim(line).empty()) {
      finish(p, source, &out);
      continue;
    }
    if (line.front() == '#') continue;  // deb822 comments (dpkg never writes them)
    if (line.front() == ' ' || line.front() == '\t') {
      if (p.fields.empty())
        throw InputError(source, std::to_string(lineno), "continuation line before any field");
      p.fields.back().second += "\n";
      p.fields.back().second += trim(line);
      continue;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      throw InputError(source, std::to_string(lineno), "expected 'Field: value'");
    std::string_view key = line.substr(0, colon);
    for (char c : key)
      if (c <= ' ' || c > '~')
        throw InputError(source, std::to_string(lineno), "invalid character in a field name");
    if (p.fields.empty()) p.line = lineno;
    if (p.get(key))
      throw InputError(source, std::to_string(lineno), "field '" + std::string(key) + "' repeated");
    p.fields.emplace_back(std::string(key), std::string(trim(line.substr(colon + 1))));
  }
  finish(p, source, &out);
  return out;
}

}  // namespace mkguest::attest
