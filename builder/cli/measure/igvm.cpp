// `mkguest measure igvm FILE [--platform sev-snp|tdx] [--json]`: the SEV-SNP
// launch digest or the TDX MRTD of any IGVM file (docs/igvm.md §3). Option
// names follow COCONUT's igvmmeasure: --platform, --native-zero, --check-kvm,
// --ignore-idblock, --verbose. The output is the digest in hex, as
// `measure snp` prints it.
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/cli/commands.h"
#include "builder/formats/igvm/reader.h"
#include "builder/measure/igvm/measure.h"

namespace mkguest::cli {
namespace {

struct Args {
  std::string file;
  std::string platform = "sev-snp";
  bool native_zero = false, check_kvm = false, ignore_idblock = false, verbose = false;
  bool json = false;
};

nlohmann::json to_json(const igvm::Measurement& m) {
  nlohmann::json j;
  j["platform"] = m.platform;
  j["compatibility_mask"] = m.compatibility_mask;
  j[m.platform == "tdx" ? "mrtd" : "launch_digest"] = to_hex(m.digest);
  j["pages"] = m.pages;
  if (m.platform != "tdx") j["vmsas"] = m.vmsas;
  if (m.guest_policy) j["guest_policy"] = hex_offset(*m.guest_policy);
  if (m.id_block_ld) {
    j["id_block_ld"] = to_hex(*m.id_block_ld);
    j["id_block_matches"] = *m.id_block_ld == m.digest;
  }
  nlohmann::json ranges = nlohmann::json::array();
  for (const auto& r : m.ranges)
    ranges.push_back({{"gpa", hex_offset(r.gpa)}, {"size", r.size}, {"type", r.type}});
  j["ranges"] = ranges;
  return j;
}

void run(const Args& a) {
  const bool tdx = a.platform == "tdx";
  if (!tdx && a.platform != "sev-snp" && a.platform != "snp")
    throw UsageError("--platform: '" + a.platform + "' (sev-snp, snp or tdx)");
  if (tdx && (a.native_zero || a.check_kvm))
    throw UsageError("--native-zero and --check-kvm are SEV-SNP options");
  MappedFile f(a.file);
  const igvm::File file = igvm::parse_igvm(f.bytes(), a.file);
  const igvm::Measurement m = tdx ? igvm::measure_tdx(file, a.file)
                                  : igvm::measure_snp(file, {a.native_zero, a.check_kvm}, a.file);
  if (a.json) {
    std::cout << to_json(m).dump(2) << "\n";
  } else {
    if (a.verbose)
      for (const auto& r : m.ranges)
        std::cout << "gpa " << hex_offset(r.gpa) << " len " << hex_offset(r.size) << " (" << r.type
                  << " page)\n";
    std::cout << to_hex(m.digest) << "\n";
  }
  if (m.id_block_ld && *m.id_block_ld != m.digest && !a.ignore_idblock) {
    std::cerr << "mkguest: " << a.file << ": the SNP ID block's expected measurement "
              << to_hex(*m.id_block_ld) << " differs from the computed one (--ignore-idblock)\n";
    set_exit_code(static_cast<int>(ExitCode::kMismatch));
  }
}

}  // namespace

void register_measure_igvm(CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* c = measure_group(app)->add_subcommand(
      "igvm",
      "IGVM file: the SEV-SNP launch digest (igvmmeasure's rules) or the TDX MRTD (microsoft/"
      "igvm's) of any IGVM file; exit 1 if its SNP ID block expects another digest");
  c->add_option("FILE", a->file, "the IGVM file")->required()->check(CLI::ExistingFile);
  c->add_option("-p,--platform", a->platform, "sev-snp (or snp) or tdx")->capture_default_str();
  c->add_flag("-n,--native-zero", a->native_zero,
              "SNP: measure pages without data as ZERO pages, not as NORMAL pages of zeros");
  c->add_flag("-c,--check-kvm", a->check_kvm,
              "SNP: refuse what QEMU/KVM cannot load (more than one VMSA, a VMSA not at "
              "0xfffffffff000 or with CR0 other than 0x30/0x31, a parameter insert after it)");
  c->add_flag("-i,--ignore-idblock", a->ignore_idblock,
              "SNP: do not compare with the ID block's expected measurement");
  c->add_flag("-v,--verbose", a->verbose, "print the measured page ranges first");
  c->add_flag("--json", a->json, "print JSON: digest, pages, ranges, policy, ID block");
  c->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
