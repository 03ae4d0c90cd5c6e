// The `uki` check of `mkguest verify`: the UKI output parses; its sections,
// Authenticode digests and stub version are the manifest's; its Secure Boot
// signatures verify; and measurements.tpm is derived again from its bytes.
#include "base/digest.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/formats/pe/authenticode.h"
#include "builder/formats/pe/image.h"
#include "builder/formats/pe/sign.h"
#include "builder/formats/uki/sections.h"
#include "builder/measure/uki_pcrs.h"
#include "builder/measure/uki_record.h"
#include "builder/verify/verify.h"

namespace mkguest::attest {

bool check_uki(const VerifyContext& ctx, std::vector<Finding>* findings) {
  const json* uki = find(ctx.manifest, {"uki"});
  if (!uki) return false;
  const std::string file = find_string(*uki, {"file"}, "uki.efi");
  const auto path = ctx.output_path(file);
  if (!std::filesystem::exists(path)) {
    findings->push_back({"uki", file, "missing from the output directory"});
    return true;
  }
  MappedFile m(path);
  const auto b = m.bytes();
  pe::PeImage p;
  try {
    p = pe::parse_pe_image(b, file);
  } catch (const InputError& e) {
    findings->push_back({"uki", file, e.what()});
    return true;
  }
  const json secs = uki_section_record(b, p);
  if (const json* want = find(*uki, {"sections"}); want && *want != secs) {
    for (std::size_t i = 0; i < std::max(want->size(), secs.size()); ++i) {
      if (i < want->size() && i < secs.size() && (*want)[i] == secs[i]) continue;
      const std::string n = i < secs.size() ? secs[i]["name"].get<std::string>()
                                            : (*want)[i]["name"].get<std::string>();
      findings->push_back({"uki", file + " " + n, "differs from the manifest's section record"});
    }
  }
  const json authenticode = uki_authenticode_record(b, file);
  for (const char* name : {"sha256", "sha384"}) {
    const std::string got = authenticode[name].get<std::string>();
    const std::string want = find_string(*uki, {"authenticode", name});
    if (!want.empty() && got != want)
      findings->push_back(
          {"uki", file,
           std::string("authenticode ") + name + " differs: manifest " + want + ", file " + got});
  }
  const std::string version = find_string(*uki, {"stub", "version"});
  if (!version.empty() && stub_version(b, file) != version)
    findings->push_back({"uki", file, "stub version differs: manifest " + version});
  for (const auto& s : verify_pe_signatures(b, file))
    if (!s.digest_matches || !s.signature_valid)
      findings->push_back(
          {"uki", file, "signature by " + s.subject + " does not verify: " + s.error});
  if (const json* tpm = find(ctx.manifest, {"measurements", "tpm"})) {
    const bool direct = tpm->contains("pcr9") && (*tpm)["pcr9"].contains("sha256") &&
                        (*tpm)["pcr9"]["sha256"].contains("direct-qemu-ovmf");
    // The RAM sizes of direct-boot PCR 4 values are in their names.
    std::vector<std::uint64_t> ram;
    if (const json* p4 = find(*tpm, {"pcr4", "sha256"}); p4 && p4->is_object())
      for (const auto& [k, v] : p4->items())
        if (k.rfind("direct-qemu-ovmf-", 0) == 0) {
          const std::string n = k.substr(17, k.size() - 18);  // "<N>M"
          if (!n.empty() && n.size() < 9 && n.find_first_not_of("0123456789") == std::string::npos)
            ram.push_back(std::stoull(n));
        }
    const json derived = predict_uki_pcrs(b, file, direct, ram);
    for (const char* reg : {"pcr4", "pcr9", "pcr11", "pcr11-profiles", "pcr12"})
      if ((*tpm).value(reg, json()) != derived.value(reg, json()))
        findings->push_back({"uki", std::string("measurements.tpm.") + reg,
                             "differs from the values derived from " + file});
  }
  return true;
}

}  // namespace mkguest::attest
