// `mkguest measure pcr11`: PCR 11 as systemd-stub and systemd-pcrphase
// extend it, with systemd-measure's verbs, options and output:
//   calculate (the default verb): "11:<bank>=<hex>" lines with a
//     "# PCR[11] Phase <path>" line on stderr per phase; --json=short|pretty
//     as systemd's JSON;
//   sign: the signed PCR 11 policy (builder/measure/pcr_sign.h) as JSON only:
//     short with a newline by default, pretty, or short without the newline
//     for --json=off, as sd_json_variant_dump() prints it.
// Banks and phases are sorted and deduplicated as systemd-measure does; an
// empty file option ("--osrel=") unsets it. --profile is systemd-measure
// 257's (.profile, measured by 257+ stubs). --uki reads the sections from a
// built UKI and its stub's version; --stub-version picks the measuring rules.
#include <algorithm>
#include <iostream>
#include <memory>
#include <set>

#include "base/error.h"
#include "base/file.h"
#include "builder/cli/attest_io.h"
#include "builder/cli/commands.h"
#include "builder/formats/pe/image.h"
#include "builder/formats/uki/sections.h"
#include "builder/keys/keys.h"
#include "builder/measure/pcr_sign.h"
#include "firmware/tpm_pcr.h"

namespace mkguest::cli {
namespace {

struct Args {
  std::string linux_image, osrel, cmdline, initrd, splash, dtb, uname, sbat, pcrpkey, profile, uki;
  std::string private_key, public_key, tpm2_device;
  std::vector<std::string> banks, phases;
  std::string json, stub_version, verb;
  std::size_t uki_profile = 0;
  const CLI::Option* json_option = nullptr;  // counted: "--json=" is refused, not unset
  bool j = false;
};

void run(const Args& a) {
  std::vector<std::unique_ptr<MappedFile>> files;
  std::vector<tpm::Section> sections;
  std::vector<Bytes> padded;  // sections whose VirtualSize exceeds their raw data
  std::string version = a.stub_version;
  std::unique_ptr<MappedFile> uki;
  if (!a.uki.empty()) {
    uki = std::make_unique<MappedFile>(a.uki);
    const pe::PeImage p = pe::parse_pe_image(uki->bytes(), a.uki);
    padded.reserve(p.sections.size());  // spans point into it: no reallocation
    std::vector<UkiSectionInput> all;
    for (const auto& s : p.sections) {
      auto d = pe::section_data(uki->bytes(), s);
      if (s.virtual_size > d.size()) {  // the loader zero-fills up to VirtualSize
        padded.emplace_back(d.begin(), d.end());
        padded.back().resize(s.virtual_size, 0);
        d = padded.back();
      }
      all.push_back({s.name, d});
    }
    // A multi-profile UKI: the sections the stub measures for that profile.
    for (const auto& s : profile_view(all, a.uki_profile)) sections.push_back({s.name, s.data});
    if (version.empty()) version = stub_version(uki->bytes(), a.uki);
  }
  const std::pair<const char*, const std::string*> opts[] = {
      {".linux", &a.linux_image}, {".osrel", &a.osrel},   {".cmdline", &a.cmdline},
      {".initrd", &a.initrd},     {".splash", &a.splash}, {".dtb", &a.dtb},
      {".uname", &a.uname},       {".sbat", &a.sbat},     {".pcrpkey", &a.pcrpkey},
      {".profile", &a.profile}};
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

  const bool sign = a.verb == "sign";
  std::string mode = a.j                           ? "short"
                     : a.json_option->count() == 0 ? (sign ? "short" : "off")
                                                   : a.json;
  if (mode != "off" && mode != "short" && mode != "pretty")
    throw UsageError("--json '" + a.json + "': one of short, pretty, off");
  if (sign) {
    // systemd-measure sign prints JSON only: --json=off drops the newline.
    if (a.private_key.empty()) throw UsageError("No private key specified, use --private-key=.");
    PcrSignRequest req;
    req.sections = sections;
    req.stub_major = major;
    req.banks.assign(bank_names.begin(), bank_names.end());
    req.phases.assign(phases.begin(), phases.end());
    const keys::Signer key = keys::load_signer({a.private_key, {}, {}, {}}, warn);
    if (!a.public_key.empty()) check_pcr_public_key(key, read_file(a.public_key), a.public_key);
    const std::string json = pcr_signature_json(
        key, req, mode == "pretty" ? PcrJsonStyle::kPretty : PcrJsonStyle::kShort);
    std::cout << json << (mode == "off" ? "" : "\n");
    return;
  }
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
      "output are systemd-measure's calculate and sign (docs/pcr.md)");
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
  c->add_option("--profile", a->profile, "the profile file [.profile] (stubs >= 257)")
      ->check(file_or_empty);
  c->add_option("--uki", a->uki, "read the sections (and the stub version) from a built UKI")
      ->check(file_or_empty);
  c->add_option("--uki-profile", a->uki_profile,
                "with --uki: the profile (0, 1, ...) of a multi-profile UKI to measure, as the "
                "stub selects it with an \"@N \" command line (default 0)");
  c->add_option(
      "--stub-version", a->stub_version,
      "the systemd-stub whose rules apply (e.g. 252, 257.13; default: the UKI's, or 257)");
  c->add_option("--bank", a->banks, "SHA1, SHA256, SHA384, SHA512 (repeatable; default: all)");
  c->add_option("--phase", a->phases,
                "a phase path such as enter-initrd:leave-initrd (repeatable; ':' = none)");
  a->json_option = c->add_option("--json", a->json, "short, pretty or off");
  c->add_option("--private-key", a->private_key,
                "sign: the RSA key (PEM file or pkcs11: URI) that signs the PCR policy");
  c->add_option("--public-key", a->public_key,
                "sign: its public key (PEM); refused unless it is the private key's")
      ->check(file_or_empty);
  c->add_option("--tpm2-device", a->tpm2_device,
                "accepted for systemd-measure 252's sign and ignored: no TPM is needed");
  c->add_flag("-j", a->j, "same as --json=short");
  c->add_option("VERB", a->verb,
                "calculate (the default) or sign, as systemd-measure's verbs "
                "(`measure pcr11 sign --private-key=K ...`)")
      ->check(CLI::IsMember({"calculate", "sign"}));
  c->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
