// `mkguest measure pcr11`: PCR 11 as systemd-stub and systemd-pcrphase
// extend it, with systemd-measure calculate's options and output (text:
// "11:<bank>=<hex>" lines with a "# PCR[11] Phase <path>" line on stderr per
// phase; --json=short|pretty as systemd's JSON), written with or without the
// verb `calculate`. Banks and phases are sorted and deduplicated as
// systemd-measure does; an empty file option ("--osrel=") unsets it. --uki reads the sections from
// a built UKI and its stub's version; --stub-version picks the measuring rules.
#include <algorithm>
#include <iostream>
#include <memory>
#include <set>

#include "base/error.h"
#include "base/file.h"
#include "builder/cli/commands.h"
#include "builder/formats/pe/image.h"
#include "builder/formats/uki/sections.h"
#include "firmware/tpm_pcr.h"

namespace mkguest::cli {
namespace {

struct Args {
  std::string linux_image, osrel, cmdline, initrd, splash, dtb, uname, sbat, pcrpkey, uki;
  std::vector<std::string> banks, phases;
  std::string json = "off", stub_version, verb;
  bool j = false;
};

void run(const Args& a) {
  std::vector<std::unique_ptr<MappedFile>> files;
  std::vector<tpm::Section> sections;
  std::vector<Bytes> padded;  // sections whose VirtualSize exceeds their raw data
  padded.reserve(32);
  std::string version = a.stub_version;
  std::unique_ptr<MappedFile> uki;
  if (!a.uki.empty()) {
    uki = std::make_unique<MappedFile>(a.uki);
    const pe::PeImage p = pe::parse_pe_image(uki->bytes(), a.uki);
    for (const auto& s : p.sections) {
      auto d = pe::section_data(uki->bytes(), s);
      if (s.virtual_size > d.size()) {  // the loader zero-fills up to VirtualSize
        padded.emplace_back(d.begin(), d.end());
        padded.back().resize(s.virtual_size, 0);
        d = padded.back();
      }
      sections.push_back({s.name, d});
    }
    if (version.empty()) version = stub_version(uki->bytes(), a.uki);
  }
  const std::pair<const char*, const std::string*> opts[] = {
      {".linux", &a.linux_image}, {".osrel", &a.osrel},   {".cmdline", &a.cmdline},
      {".initrd", &a.initrd},     {".splash", &a.splash}, {".dtb", &a.dtb},
      {".uname", &a.uname},       {".sbat", &a.sbat},     {".pcrpkey", &a.pcrpkey}};
  for (const auto& [name, path] : opts) {
    if (path->empty()) continue;
    files.push_back(std::make_unique<MappedFile>(*path));
    // A file given on the command line replaces the UKI's section.
    sections.erase(std::remove_if(sections.begin(), sections.end(),
                                  [&](const tpm::Section& s) { return s.name == name; }),
                   sections.end());
    sections.push_back({name, files.back()->bytes()});
  }
  if (a.linux_image.empty() && a.uki.empty())
    throw UsageError("either --linux= or --uki= must be specified, refusing");
  if (version.empty()) version = "257";
  const int major = tpm::stub_major(version);
  if (major < 252)
    throw UsageError("--stub-version '" + version + "': not a systemd-stub version (252 or later)");

  std::set<std::string> bank_names;
  for (const auto& b : a.banks) {
    std::string lower = b;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    HashAlg alg;
    if (!parse_hash_alg(lower, &alg))
      throw UsageError("--bank '" + b + "': one of SHA1, SHA256, SHA384, SHA512");
    bank_names.insert(lower);
  }
  if (bank_names.empty()) bank_names = {"sha1", "sha256", "sha384", "sha512"};
  // Each path normalised as systemd-measure does: empty words dropped, ":" for none.
  auto normalize = [](const std::string& p) {
    std::string out, word;
    for (char ch : p + ":") {
      if (ch != ':') {
        word.push_back(ch);
      } else if (!word.empty()) {
        out += (out.empty() ? "" : ":") + word;
        word.clear();
      }
    }
    return out.empty() ? std::string(":") : out;
  };
  std::set<std::string> phases;
  for (const auto& p : a.phases) phases.insert(normalize(p));
  if (phases.empty())
    for (const auto& p : tpm::default_phases()) phases.insert(p);

  std::string mode = a.j ? "short" : a.json;
  if (mode != "off" && mode != "short" && mode != "pretty")
    throw UsageError("--json '" + a.json + "': one of short, pretty, off");
  auto value = [&](const std::string& bank, const std::string& phase) {
    HashAlg alg;
    parse_hash_alg(bank, &alg);
    return to_hex(tpm::pcr11(alg, sections, major, phase));
  };
  // A phase of only separators is no phase: JSON leaves the key out.
  auto has_words = [](const std::string& p) {
    return p.find_first_not_of(':') != std::string::npos;
  };
  if (mode == "off") {
    for (const auto& phase : phases) {
      std::cerr << "# PCR[11] Phase <" << phase << ">\n";
      for (const auto& bank : bank_names)
        std::cout << "11:" << bank << "=" << value(bank, phase) << "\n";
    }
    return;
  }
  const bool pretty = mode == "pretty";
  std::string out = pretty ? "{\n" : "{";
  bool first_bank = true;
  for (const auto& bank : bank_names) {
    out += first_bank ? "" : (pretty ? ",\n" : ",");
    first_bank = false;
    out += pretty ? "\t\"" + bank + "\" : [\n" : "\"" + bank + "\":[";
    bool first = true;
    for (const auto& phase : phases) {
      out += first ? "" : (pretty ? ",\n" : ",");
      first = false;
      if (pretty) {
        out += "\t\t{\n";
        if (has_words(phase)) out += "\t\t\t\"phase\" : \"" + phase + "\",\n";
        out += "\t\t\t\"pcr\" : 11,\n\t\t\t\"hash\" : \"" + value(bank, phase) + "\"\n\t\t}";
      } else {
        out += "{";
        if (has_words(phase)) out += "\"phase\":\"" + phase + "\",";
        out += "\"pcr\":11,\"hash\":\"" + value(bank, phase) + "\"}";
      }
    }
    out += pretty ? "\n\t]" : "]";
  }
  out += pretty ? "\n}\n" : "}\n";
  std::cout << out;
}

}  // namespace

void register_measure_pcr11(CLI::App& app) {
  auto a = std::make_shared<Args>();
  // As systemd-measure's parse_path_argument: an empty value ("--osrel=")
  // unsets the option; any other value must name an existing file.
  const CLI::Validator file_or_empty(
      [](std::string& v) { return v.empty() ? std::string() : CLI::ExistingFile(v); }, "FILE");
  auto* c = measure_group(app)->add_subcommand(
      "pcr11",
      "PCR 11 of a UKI as systemd-stub and systemd-pcrphase extend it; the options and the "
      "output are systemd-measure calculate's (docs/pcr.md)");
  c->add_option("--linux", a->linux_image, "the kernel [.linux]")->check(file_or_empty);
  c->add_option("--osrel", a->osrel, "the os-release file [.osrel]")->check(file_or_empty);
  c->add_option("--cmdline", a->cmdline, "a file with the kernel command line [.cmdline]")
      ->check(file_or_empty);
  c->add_option("--initrd", a->initrd, "the initrd [.initrd]")->check(file_or_empty);
  c->add_option("--splash", a->splash, "the splash bitmap [.splash]")->check(file_or_empty);
  c->add_option("--dtb", a->dtb, "the devicetree [.dtb]")->check(file_or_empty);
  c->add_option("--uname", a->uname, "a file with the kernel version [.uname] (stubs >= 254)")
      ->check(file_or_empty);
  c->add_option("--sbat", a->sbat, "the SBAT data [.sbat] (stubs >= 254)")->check(file_or_empty);
  c->add_option("--pcrpkey", a->pcrpkey, "the PCR public key [.pcrpkey]")->check(file_or_empty);
  c->add_option("--uki", a->uki, "read the sections (and the stub version) from a built UKI")
      ->check(file_or_empty);
  c->add_option(
      "--stub-version", a->stub_version,
      "the systemd-stub whose rules apply (e.g. 252, 257.13; default: the UKI's, or 257)");
  c->add_option("--bank", a->banks, "SHA1, SHA256, SHA384, SHA512 (repeatable; default: all)");
  c->add_option("--phase", a->phases,
                "a phase path such as enter-initrd:leave-initrd (repeatable; ':' = none)");
  c->add_option("--json", a->json, "short, pretty or off");
  c->add_flag("-j", a->j, "same as --json=short");
  c->add_option("VERB", a->verb,
                "calculate: systemd-measure's verb, optional (`measure pcr11 calculate ...`)")
      ->check(CLI::IsMember({"calculate"}));
  c->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
