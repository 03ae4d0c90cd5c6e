// UKI section assembly as ukify 257 does it (see uki_sections.h).
#include "builder/formats/uki/sections.h"

#include <cctype>

#include "base/error.h"
#include "builder/formats/pe/image.h"

namespace mkguest {
namespace {

constexpr const char* kSbatHeader =
    "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md";
constexpr const char* kStubSbat =
    "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"
    "uki,1,UKI,uki,1,https://uapi-group.org/specifications/specs/unified_kernel_image/\n";

// Python's str.splitlines() for the line breaks text files use.
std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e)) {
      out.push_back(cur);
      cur.clear();
      if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

}  // namespace

std::string normalize_cmdline(const std::string& text) {
  std::string out, word;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) out += (out.empty() ? "" : " ") + word;
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) out += (out.empty() ? "" : " ") + word;
  return out;
}

std::string merge_sbat(const std::vector<std::span<const std::uint8_t>>& pes,
                       const std::vector<std::string>& texts, std::vector<std::string>* notes) {
  std::vector<std::string> lines;
  for (const auto& image : pes) {
    pe::PeImage p;
    try {
      p = pe::parse_pe_image(image, "pe");
    } catch (const InputError&) {
      continue;  // not a PE: no SBAT to take (ukify prints and goes on)
    }
    for (const auto& s : p.sections) {
      if (s.name != ".sbat") continue;
      const auto raw = image.subspan(s.raw_pointer, s.raw_size);
      std::string text(raw.begin(), raw.end());
      while (!text.empty() && text.back() == '\0') text.pop_back();
      const auto split = split_lines(text);
      if (split.empty() || split[0].rfind("sbat,", 0) != 0) {
        if (notes) notes->push_back("a PE's .sbat does not start with \"sbat,\"; skipped");
        continue;
      }
      lines.insert(lines.end(), split.begin() + 1, split.end());
    }
  }
  for (const auto& t : texts) {
    const auto split = split_lines(t);
    if (split.empty() || split[0].rfind("sbat,", 0) != 0) {
      if (notes) notes->push_back("an --sbat text does not start with \"sbat,\"; skipped");
      continue;
    }
    lines.insert(lines.end(), split.begin() + 1, split.end());
  }
  std::string out = std::string(kSbatHeader) + "\n";
  for (std::size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" : "") + lines[i];
  out += "\n";
  out.push_back('\0');
  return out;
}

std::optional<std::string> scrape_uname_x86(std::span<const std::uint8_t> k) {
  if (k.size() < 0x210 || k[0x202] != 'H' || k[0x203] != 'd' || k[0x204] != 'r' || k[0x205] != 'S')
    return std::nullopt;
  const std::size_t at = 0x200 + (k[0x20e] | (k[0x20f] << 8));
  if (at >= k.size()) return std::nullopt;
  std::string text;
  for (std::size_t i = at; i < k.size() && i < at + 128 && k[i] != 0; ++i)
    text.push_back(static_cast<char>(k[i]));
  // (?P<version>[a-z0-9._+-]+) \([^ )]+\) (?:#.*)
  std::size_t i = 0;
  auto version_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '+' ||
           c == '-';
  };
  while (i < text.size() && version_char(text[i])) ++i;
  if (i == 0 || text.compare(i, 2, " (") != 0) return std::nullopt;
  std::size_t j = i + 2;
  while (j < text.size() && text[j] != ' ' && text[j] != ')') ++j;
  if (j == i + 2 || text.compare(j, 3, ") #") != 0) return std::nullopt;
  return text.substr(0, i);
}

std::string stub_version(std::span<const std::uint8_t> stub, const std::string& name) {
  const pe::PeImage p = pe::parse_pe_image(stub, name);
  const pe::SectionHeader* s = p.find(".sdmagic");
  if (!s) return "";
  const auto d = pe::section_data(stub, *s);
  std::string text(d.begin(), d.end());
  const std::string key = "LoaderInfo: systemd-stub ";
  const auto a = text.find(key);
  if (a == std::string::npos) return "";
  const auto b = text.find(" ####", a);
  std::string version =
      text.substr(a + key.size(), b == std::string::npos ? std::string::npos : b - a - key.size());
  // The version reaches the manifest (JSON) and the build summary: printable
  // ASCII only, as systemd writes it.
  for (std::size_t i = 0; i < version.size(); ++i) {
    const auto c = static_cast<unsigned char>(version[i]);
    if (c < 0x20 || c > 0x7e)
      throw offset_error(name, s->raw_pointer + a + key.size() + i,
                         "the stub's .sdmagic version is not printable ASCII");
  }
  return version;
}

std::vector<UkiSectionInput> profile_pe_sections(std::span<const std::uint8_t> image,
                                                 const std::string& name, bool with_osrel) {
  static const char* const kImport[] = {".linux",  ".osrel", ".cmdline", ".initrd", ".ucode",
                                        ".splash", ".dtb",   ".uname",   ".sbat",   ".profile"};
  const pe::PeImage p = pe::parse_pe_image(image, name);
  std::vector<UkiSectionInput> out;
  for (const auto& s : p.sections) {
    bool wanted = false;
    for (const char* n : kImport) wanted = wanted || s.name == n;
    if (!wanted || (s.name == ".osrel" && !with_osrel)) continue;
    if (out.empty() && s.name != ".profile")
      throw offset_error(name, s.header_offset,
                         "the first section of a profile PE must be .profile, not " + s.name);
    if (!out.empty() && s.name == ".profile")
      throw offset_error(name, s.header_offset, "a profile PE has one .profile section, not more");
    out.push_back({s.name, pe::section_data(image, s)});
  }
  if (out.empty()) throw file_error(name, "not a profile PE: it has no .profile section");
  return out;
}

std::size_t profile_count(const std::vector<UkiSectionInput>& all) {
  std::size_t n = 0;
  for (const auto& s : all) n += s.name == ".profile";
  return n ? n : 1;
}

std::vector<UkiSectionInput> profile_view(const std::vector<UkiSectionInput>& all,
                                          std::size_t index) {
  if (index >= profile_count(all))
    throw ValueError("the UKI has no profile " + std::to_string(index));
  std::vector<UkiSectionInput> out;
  std::size_t seen = 0;  // .profile sections passed
  for (const auto& s : all) {
    if (s.name == ".profile") ++seen;
    if (seen == index + 1) out.push_back(s);
  }
  if (profile_count(all) == 1 && seen == 0) return all;
  for (const auto& s : all) {
    if (s.name == ".profile") break;
    bool overridden = false;
    for (const auto& o : out) overridden = overridden || o.name == s.name;
    if (!overridden) out.push_back(s);
  }
  return out;
}

UkiSections ukify_sections(std::span<const std::uint8_t> stub, const UkiContents& c) {
  UkiSections out;
  auto add = [&](const char* name, const std::optional<Bytes>& b) {
    if (b) out.list.push_back({name, *b});
  };
  // A profile PE (a profile and nothing to join) starts with its .profile.
  const bool profile_pe = c.profile && c.joined.empty();
  if (profile_pe) add(".profile", c.profile);
  add(".osrel", c.osrel);
  add(".cmdline", c.cmdline);
  add(".dtb", c.devicetree);
  add(".uname", c.uname);
  add(".splash", c.splash);
  add(".pcrpkey", c.pcrpkey);
  if (c.linux_image) out.list.push_back({".linux", *c.linux_image});
  if (c.initrds.size() == 1) {
    out.list.push_back({".initrd", c.initrds[0]});
  } else if (c.initrds.size() > 1) {
    for (const auto& i : c.initrds) {
      out.joined_initrd.insert(out.joined_initrd.end(), i.begin(), i.end());
      out.joined_initrd.resize((out.joined_initrd.size() + 3) / 4 * 4, 0);
    }
    out.list.push_back({".initrd", out.joined_initrd});
  }
  for (const auto& [name, data] : c.extra) out.list.push_back({name, data});
  if (c.linux_image && !profile_pe) {
    std::vector<std::span<const std::uint8_t>> pes{stub, *c.linux_image};
    const std::vector<std::string> texts =
        c.sbat.empty() ? std::vector<std::string>{kStubSbat} : c.sbat;
    out.sbat = bytes_of(merge_sbat(pes, texts, &out.notes));
    out.list.push_back({".sbat", out.sbat});
  }
  if (!profile_pe) add(".profile", c.profile);
  add(".pcrsig", c.pcrsig);
  for (const auto& j : c.joined) {
    out.list.insert(out.list.end(), j.sections.begin(), j.sections.end());
    add(".pcrsig", j.pcrsig);
  }
  return out;
}

}  // namespace mkguest
