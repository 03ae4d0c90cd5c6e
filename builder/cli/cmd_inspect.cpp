// `mkguest inspect FILE [--json]`: what a PE image (a UKI, a kernel, a stub)
// holds: its sections with their digests, the text of .osrel, .cmdline and
// .uname, the stub version, the Secure Boot signatures and whether they
// verify, and for a UKI the PCR 11 and PCR 4 values it predicts
// (docs/uki.md, docs/pcr.md).
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file.h"
#include "builder/cli/commands.h"
#include "builder/cli/inspect_igvm.h"
#include "builder/cli/inspect_se.h"
#include "builder/formats/pe/authenticode.h"
#include "builder/formats/pe/image.h"
#include "builder/formats/pe/sign.h"
#include "builder/formats/uki/sections.h"
#include "builder/measure/uki_pcrs.h"
#include "builder/measure/uki_record.h"
#include "firmware/tpm_pcr.h"

namespace mkguest::cli {
namespace {

struct Args {
  std::string file, ca, hdr_key, host_key;
  bool json = false;
};

nlohmann::json inspect_pe(std::span<const std::uint8_t> b, const std::string& name,
                          std::span<const std::uint8_t> ca) {
  const pe::PeImage p = pe::parse_pe_image(b, name);
  nlohmann::json j;
  j["format"] = p.pe32_plus ? "PE32+" : "PE32";
  j["size"] = b.size();
  j["machine"] = p.machine;
  for (const auto& s : p.sections) {
    const auto d = pe::section_data(b, s);
    if (s.name == ".osrel" || s.name == ".cmdline" || s.name == ".uname")
      j["text"][s.name] = std::string(d.begin(), d.end());
  }
  j["sections"] = uki_section_record(b, p);
  const std::string version = stub_version(b, name);
  if (!version.empty()) j["stub_version"] = version;
  j["authenticode"] = uki_authenticode_record(b, name);
  nlohmann::json sigs = nlohmann::json::array();
  for (const auto& s : verify_pe_signatures(b, name, ca)) {
    nlohmann::json e = {{"subject", s.subject},
                        {"digest_algorithm", s.digest_algorithm},
                        {"signed_digest", s.signed_digest},
                        {"digest_matches", s.digest_matches},
                        {"signature_valid", s.signature_valid}};
    if (!ca.empty()) e["chain_trusted"] = s.chain_trusted;
    if (!s.error.empty()) e["error"] = s.error;
    sigs.push_back(e);
  }
  j["signatures"] = sigs;
  if (p.find(".linux")) {
    const nlohmann::json pcrs = predict_uki_pcrs(b, name, false);
    j["pcr11"] = pcrs["pcr11"];
    j["pcr4"] = pcrs["pcr4"];
    if (pcrs.contains("pcr11-profiles")) j["pcr11-profiles"] = pcrs["pcr11-profiles"];
  }
  return j;
}

void print_text(const nlohmann::json& j, const std::string& file) {
  std::cout << file << ": " << j["format"].get<std::string>() << ", " << j["size"] << " bytes";
  if (j.contains("stub_version"))
    std::cout << ", systemd-stub " << j["stub_version"].get<std::string>();
  std::cout << "\n";
  for (const auto& s : j["sections"])
    std::cout << "  section " << s["name"].get<std::string>() << ": offset " << s["offset"]
              << ", size " << s["size"] << ", sha256 " << s["sha256"].get<std::string>() << "\n";
  if (j.contains("text"))
    for (const auto& [k, v] : j["text"].items()) {
      std::string t = v.get<std::string>();
      while (!t.empty() && (t.back() == '\n' || t.back() == '\0')) t.pop_back();
      std::cout << "  " << k << ": " << t << "\n";
    }
  std::cout << "  authenticode sha256 " << j["authenticode"]["sha256"].get<std::string>() << "\n";
  if (j["signatures"].empty()) std::cout << "  not signed\n";
  for (const auto& s : j["signatures"]) {
    const bool ok = s["digest_matches"].get<bool>() && s["signature_valid"].get<bool>() &&
                    (!s.contains("chain_trusted") || s["chain_trusted"].get<bool>());
    std::cout << "  signature by " << s["subject"].get<std::string>() << " ("
              << s["digest_algorithm"].get<std::string>()
              << "): " << (ok ? "verifies" : "DOES NOT VERIFY: " + s.value("error", std::string()))
              << "\n";
  }
  if (j.contains("pcr11")) {
    for (const auto& e : j["pcr11"]["sha256"])
      std::cout << "  PCR 11 sha256 "
                << (e["phase"] == "" ? "(no phase)" : e["phase"].get<std::string>()) << ": "
                << e["value"].get<std::string>() << "\n";
    std::cout << "  PCR 4 sha256 qemu-kernel: "
              << j["pcr4"]["sha256"]["qemu-kernel"].get<std::string>()
              << "\n  PCR 4 sha256 disk: " << j["pcr4"]["sha256"]["disk"].get<std::string>()
              << "\n";
  }
}

void run(const Args& a) {
  MappedFile f(a.file);
  if (looks_like_igvm(f.bytes())) {
    if (!a.hdr_key.empty() || !a.host_key.empty() || !a.ca.empty())
      throw UsageError("--ca, --hdr-key and --host-key are not for IGVM files");
    inspect_igvm(f.bytes(), a.file, a.json);
    return;
  }
  if (looks_like_se(f.bytes())) {
    inspect_se(a.file, a.hdr_key, a.host_key, a.json);
    return;
  }
  if (!a.hdr_key.empty() || !a.host_key.empty())
    throw UsageError("--hdr-key and --host-key are for IBM SE images");
  const Bytes ca = a.ca.empty() ? Bytes() : read_file(a.ca);
  const nlohmann::json j = inspect_pe(f.bytes(), a.file, ca);
  if (a.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    print_text(j, a.file);
  }
  for (const auto& s : j["signatures"])
    if (!s["digest_matches"].get<bool>() || !s["signature_valid"].get<bool>() ||
        (s.contains("chain_trusted") && !s["chain_trusted"].get<bool>()))
      set_exit_code(static_cast<int>(ExitCode::kMismatch));
}

}  // namespace

void register_inspect(CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* c = app.add_subcommand(
      "inspect",
      "Show what an IGVM file holds (headers, platforms, every directive, page ranges and "
      "types), what an IBM SE image or header holds (header fields, components, PLD/ALD/TLD "
      "recomputed; decrypted with --hdr-key or --host-key), or what a PE image (UKI, kernel, stub) "
      "holds: sections and digests, .osrel/.cmdline/"
      ".uname, signatures and whether they verify (exit 1 if one does not), predicted PCR 11 and "
      "PCR 4");
  c->add_option("FILE", a->file, "the image")->required()->check(CLI::ExistingFile);
  c->add_option("--ca", a->ca, "check the signatures' chain to these certificates (PEM)")
      ->check(CLI::ExistingFile);
  c->add_option("--hdr-key", a->hdr_key,
                "SE: the header key (32-byte file): verify the tag and decrypt")
      ->check(CLI::ExistingFile);
  c->add_option("--host-key", a->host_key,
                "SE: a host private key (PEM): open its key slot, verify the tag and decrypt")
      ->check(CLI::ExistingFile);
  c->add_flag("--json", a->json, "print JSON");
  c->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
