// `explain` for an SEV-SNP attestation report: MEASUREMENT against the
// manifest's launch digests (and, when it is none of them, the neighbourhood
// search of explain_snp_search.h), HOST_DATA against the init-data binding,
// POLICY against the recipe's policy word.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "base/byte_reader.h"
#include "base/encoding.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/measure/snp_policy.h"
#include "builder/verify/explain.h"
#include "builder/verify/explain_snp_search.h"

namespace mkguest::attest {
namespace {

std::string hex_word(std::uint64_t v) {
  char s[24];
  std::snprintf(s, sizeof s, "0x%llx", static_cast<unsigned long long>(v));
  return s;
}

std::uint64_t parse_word(const std::string& s, std::uint64_t fallback) {
  if (s.empty()) return fallback;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  return end && *end == '\0' ? v : fallback;
}

VmmType parse_vmm(const std::string& s) {
  return s == "ec2" ? VmmType::kEc2 : s == "gce" ? VmmType::kGce : VmmType::kQemu;
}

// The QEMU -cpu models with this signature ("EPYC-Milan, EPYC-Milan-v1..."),
// or the signature alone.
std::string cpu_name(std::uint32_t sig) {
  std::string names;
  for (const auto& t : snp_vcpu_types()) {
    std::uint32_t s = 0;
    if (snp_vcpu_signature(t, &s) && s == sig && t.find("-v") == std::string::npos)
      names += (names.empty() ? "" : "/") + t;
  }
  return names.empty() ? "signature " + hex_word(sig) : names + " (" + hex_word(sig) + ")";
}

std::string features_name(std::uint64_t f) {
  static const char* const kBits[] = {"SNPActive",
                                      "vTOM",
                                      "ReflectVC",
                                      "RestrictedInjection",
                                      "AlternateInjection",
                                      "DebugSwap",
                                      "PreventHostIBS",
                                      "BTBIsolation",
                                      "VmplSSS",
                                      "SecureTSC",
                                      "VmgexitParameter",
                                      nullptr,
                                      "IbsVirtualization",
                                      nullptr,
                                      "VmsaRegProt",
                                      "SmtProtection"};
  std::string s;
  for (unsigned b = 0; b < 64; ++b)
    if (f >> b & 1) {
      const char* n = b < 16 ? kBits[b] : nullptr;
      s += (s.empty() ? "" : ", ") + (n ? std::string(n) : "bit " + std::to_string(b));
    }
  return hex_word(f) + (s.empty() ? "" : " (" + s + ")");
}

std::string describe(const SnpLaunchParams& p) {
  std::string s = std::string(vmm_name(p.vmm)) + ", " + std::to_string(p.vcpus) + " vCPU" +
                  (p.vcpus == 1 ? "" : "s");
  if (p.vmm == VmmType::kQemu) s += ", " + cpu_name(p.vcpu_sig);
  s += ", guest_features " + hex_word(p.guest_features) + ", kernel hashes " +
       (p.kernel_hashes ? "on" : "off");
  return s;
}

json params_json(const SnpLaunchParams& p) {
  return {{"vmm", vmm_name(p.vmm)},
          {"vcpus", p.vcpus},
          {"vcpu_sig", p.vmm == VmmType::kQemu ? json(hex_word(p.vcpu_sig)) : json(nullptr)},
          {"guest_features", hex_word(p.guest_features)},
          {"kernel_hashes", p.kernel_hashes}};
}

// What the manifest's launch_digests recorded, one parameter set each.
std::vector<std::pair<SnpLaunchParams, std::string>> recorded_launches(const json& snp) {
  std::vector<std::pair<SnpLaunchParams, std::string>> out;
  const json* entries = find(snp, {"launch_digests"});
  if (!entries || !entries->is_array()) return out;
  for (const auto& e : *entries) {
    if (find_string(e, {"mode"}, "snp") != "snp") continue;
    SnpLaunchParams p;
    p.vmm = parse_vmm(find_string(e, {"vmm"}, "QEMU"));
    const json* v = find(e, {"vcpus"});
    p.vcpus = v && v->is_number_unsigned() ? v->get<std::uint32_t>() : 1;
    p.vcpu_sig = static_cast<std::uint32_t>(parse_word(find_string(e, {"vcpu_sig"}), 0));
    p.guest_features = parse_word(find_string(e, {"guest_features"}), 1);
    const json* kh = find(e, {"kernel_hashes"});
    p.kernel_hashes = kh && kh->is_boolean() && kh->get<bool>();
    out.push_back({p, find_string(e, {"digest"})});
  }
  return out;
}

template <typename T, typename F>
std::string joined(const std::vector<std::pair<SnpLaunchParams, std::string>>& rec, F get) {
  std::set<T> values;
  for (const auto& r : rec) values.insert(get(r.first));
  std::string s;
  std::size_t i = 0;
  for (const auto& v : values) {
    if constexpr (std::is_same_v<T, std::string>)
      s += (i == 0 ? "" : i + 1 == values.size() ? " and " : ", ") + v;
    else
      s += (i == 0 ? "" : i + 1 == values.size() ? " and " : ", ") + std::to_string(v);
    ++i;
  }
  return s;
}

// The sentences naming how `found` differs from the closest recorded launch.
// `host_sig`: the signature of the report's own CPUID_FAM_ID/MOD_ID/STEP
// (version 3 and later; 0 otherwise), what QEMU's -cpu host puts in RDX.
std::vector<std::string> differences(
    const SnpLaunchParams& found, const std::vector<std::pair<SnpLaunchParams, std::string>>& rec,
    std::uint32_t host_sig) {
  std::vector<std::string> why;
  if (rec.empty()) return why;
  auto all = [&](auto pred) {
    return std::all_of(rec.begin(), rec.end(), [&](const auto& r) { return pred(r.first); });
  };
  if (all([&](const SnpLaunchParams& p) { return p.vmm != found.vmm; }))
    why.push_back(std::string("the VMM was ") + vmm_name(found.vmm) + "; the recipe measured " +
                  joined<std::string>(
                      rec, [](const SnpLaunchParams& p) { return std::string(vmm_name(p.vmm)); }));
  if (found.vmm == VmmType::kQemu &&
      all([&](const SnpLaunchParams& p) { return p.vcpu_sig != found.vcpu_sig; }))
    why.push_back("the vCPU type was " + cpu_name(found.vcpu_sig) +
                  (host_sig && found.vcpu_sig == host_sig
                       ? " (the chip's own CPUID, as the report states it: QEMU ran with -cpu host)"
                       : "") +
                  "; the recipe measured " + joined<std::string>(rec, [](const SnpLaunchParams& p) {
                    return cpu_name(p.vcpu_sig);
                  }));
  if (all([&](const SnpLaunchParams& p) { return p.vcpus != found.vcpus; }))
    why.push_back("the VM ran with " + std::to_string(found.vcpus) + " vCPU" +
                  (found.vcpus == 1 ? "" : "s") + "; the recipe measured " +
                  joined<std::uint32_t>(rec, [](const SnpLaunchParams& p) { return p.vcpus; }));
  if (all([&](const SnpLaunchParams& p) { return p.guest_features != found.guest_features; })) {
    std::string s = "the guest features word was " + features_name(found.guest_features) +
                    "; the recipe measured " +
                    joined<std::string>(
                        rec, [](const SnpLaunchParams& p) { return hex_word(p.guest_features); });
    if (found.guest_features & 0x20)
      s += " (host kernels 6.6 and 6.7 turn DebugSwap on by default)";
    why.push_back(s);
  }
  if (all([&](const SnpLaunchParams& p) { return p.kernel_hashes != found.kernel_hashes; }))
    why.push_back(found.kernel_hashes
                      ? "the launch measured the kernel hashes table (QEMU kernel-hashes=on); "
                        "the recipe measured without it"
                      : "the launch did not measure the kernel hashes table (no kernel-hashes=on, "
                        "or no -kernel); the recipe measured with it");
  return why;
}

ExplainCheck check_measurement(const VerifyContext& ctx, const evidence::SnpReport& r,
                               const ExplainOptions& opts) {
  ExplainCheck c{"measurement", ExplainStatus::kMismatch, {}, to_hex(r.measurement), {}, {}};
  const json* snp = find(ctx.manifest, {"measurements", "snp"});
  const auto rec = snp ? recorded_launches(*snp) : decltype(recorded_launches(json())){};
  if (rec.empty()) {
    c.why.push_back("the manifest has no SEV-SNP launch digest: the recipe measured no SNP launch");
    return c;
  }
  for (std::size_t i = 0; i < rec.size(); ++i)
    if (rec[i].second == c.actual) {
      c.status = ExplainStatus::kMatch;
      c.expected = c.actual;
      c.why.push_back("MEASUREMENT is the manifest's launch_digests[" + std::to_string(i) +
                      "]: " + describe(rec[i].first));
      c.details["launch"] = params_json(rec[i].first);
      return c;
    }
  // outputs.igvm: a guest launched from one of the build's IGVM files.
  if (const json* igvm = find(*snp, {"igvm"}); igvm && igvm->is_array())
    for (std::size_t i = 0; i < igvm->size(); ++i)
      if (find_string((*igvm)[i], {"digest"}) == c.actual) {
        c.status = ExplainStatus::kMatch;
        c.expected = c.actual;
        c.why.push_back("MEASUREMENT is the manifest's measurements.snp.igvm[" + std::to_string(i) +
                        "]: the launch of the IGVM file " + find_string((*igvm)[i], {"file"}));
        c.details["igvm"] = (*igvm)[i];
        return c;
      }
  c.expected = std::to_string(rec.size()) + " launch digest" + (rec.size() == 1 ? "" : "s");
  c.why.push_back("MEASUREMENT is none of the manifest's launch digests");
  std::vector<Finding> notes;
  const FirmwareInput fw = find_firmware(ctx, *snp, "explain", &notes);
  if (!fw.found) {
    c.why.push_back("the firmware input " + find_string(*snp, {"firmware", "path"}) +
                    " was not found (give --inputs DIR): the launch parameters were not searched");
    return c;
  }
  if (!fw.matches) {
    c.why.push_back("the firmware at " + fw.file.string() +
                    " is not the one the manifest names: the launch parameters were not searched");
    return c;
  }
  const SevFirmware parsed = parse_sev_firmware(ByteReader(fw.bytes, fw.file.string()));
  Bytes ovmf_hash;
  if (!from_hex(find_string(*snp, {"ovmf_hash"}), &ovmf_hash) || ovmf_hash.size() != 48)
    ovmf_hash = snp_ovmf_hash(fw.bytes);
  SnpSearchSpace space = default_snp_search_space();
  // With -cpu host the VMSA carries the chip's own signature, which a version
  // 3 or later report states.
  const std::uint32_t host_sig =
      r.cpuid_fam_id && *r.cpuid_fam_id
          ? snp_cpu_signature(*r.cpuid_fam_id, *r.cpuid_mod_id, *r.cpuid_step)
          : 0;
  if (host_sig &&
      std::find(space.vcpu_sigs.begin(), space.vcpu_sigs.end(), host_sig) == space.vcpu_sigs.end())
    space.vcpu_sigs.push_back(host_sig);
  for (const auto& [p, digest] : rec) {
    if (std::find(space.vcpu_sigs.begin(), space.vcpu_sigs.end(), p.vcpu_sig) ==
        space.vcpu_sigs.end())
      space.vcpu_sigs.push_back(p.vcpu_sig);
    if (std::find(space.guest_features.begin(), space.guest_features.end(), p.guest_features) ==
        space.guest_features.end())
      space.guest_features.push_back(p.guest_features);
  }
  // Kernel hashes on: only a firmware with an SNP_KERNEL_HASHES section
  // measures them, and only the OUTDIR's own kernel can be hashed.
  const std::string kernel = output_file(ctx.manifest, "kernel");
  std::error_code ec;
  if (parsed.has_section(SevSectionType::kSnpKernelHashes) && !kernel.empty() &&
      std::filesystem::is_regular_file(ctx.output_path(kernel), ec)) {
    std::string cmdline;
    if (const std::string f = output_file(ctx.manifest, "cmdline"); !f.empty()) {
      const Bytes b = read_file(ctx.output_path(f));
      cmdline.assign(b.begin(), b.end());
    }
    const std::string initrd = output_file(ctx.manifest, "initrd");
    space.hashes =
        sev_hashes_from(digest_file(HashAlg::kSha256, ctx.output_path(kernel)),
                        initrd.empty() ? digest(HashAlg::kSha256, "")
                                       : digest_file(HashAlg::kSha256, ctx.output_path(initrd)),
                        cmdline);
  }
  const auto found = search_snp_measurement(fw.bytes, parsed, ovmf_hash, space, r.measurement,
                                            fw.file.string(), opts.threads);
  const bool hashes_tried = space.hashes && parsed.has_section(SevSectionType::kSnpKernelHashes);
  c.details["searched"] = {{"vcpus", {1, space.max_vcpus}},
                           {"vmms", space.vmms.size()},
                           {"vcpu_sigs", space.vcpu_sigs.size()},
                           {"guest_features", space.guest_features.size()},
                           {"kernel_hashes", hashes_tried ? "off, on" : "off"}};
  c.details["reproduced_by"] = json::array();
  for (const auto& p : found) c.details["reproduced_by"].push_back(params_json(p));
  if (found.empty()) {
    c.why.push_back(
        "no launch parameter reproduces it (searched 1-" + std::to_string(space.max_vcpus) +
        " vCPUs, " + std::to_string(space.vcpu_sigs.size()) + " vCPU signatures, " +
        std::to_string(space.vmms.size()) + " VMMs, " +
        std::to_string(space.guest_features.size()) + " guest features words, kernel hashes " +
        (hashes_tried ? "on and off" : "off") +
        "): the firmware or a measured input (kernel, initrd, cmdline) differs from this build's");
    return c;
  }
  const std::size_t shown = std::min<std::size_t>(found.size(), 4);
  for (std::size_t i = 0; i < shown; ++i) {
    c.why.push_back("reproduced by: " + describe(found[i]));
    for (auto& d : differences(found[i], rec, host_sig)) c.why.push_back("  " + d);
  }
  if (found.size() > shown)
    c.why.push_back("and " + std::to_string(found.size() - shown) + " more parameter sets");
  return c;
}

ExplainCheck check_host_data(const VerifyContext& ctx, const evidence::SnpReport& r) {
  ExplainCheck c{"host_data", ExplainStatus::kMatch, {}, to_hex(r.host_data), {}, {}};
  const bool zero = std::all_of(r.host_data.begin(), r.host_data.end(), [](auto b) { return !b; });
  c.expected = find_string(ctx.manifest, {"measurements", "snp", "host_data"});
  if (c.expected.empty()) {
    if (zero) {
      c.why.push_back("the build binds no init-data and HOST_DATA is zero");
      return c;
    }
    c.status = ExplainStatus::kMismatch;
    c.why.push_back(
        "the build binds no init-data, but the VM was launched with HOST_DATA set "
        "(QEMU host-data=): another document, or another build's");
    return c;
  }
  if (c.expected == c.actual) {
    c.why.push_back("HOST_DATA is the init-data binding of this build");
    return c;
  }
  c.status = ExplainStatus::kMismatch;
  c.why.push_back(zero ? "the VM was launched without host-data (HOST_DATA is zero): the init-data "
                         "binding of this build was not passed to QEMU (host-data=)"
                       : "HOST_DATA is not this build's init-data binding: the VM was launched "
                         "with another init-data document");
  return c;
}

ExplainCheck check_policy(const VerifyContext& ctx, const evidence::SnpReport& r) {
  ExplainCheck c{"policy", ExplainStatus::kMatch, {}, hex_word(r.policy), {}, {}};
  c.expected = find_string(ctx.manifest, {"measurements", "snp", "policy", "value"});
  if (c.expected.empty()) {
    c.status = ExplainStatus::kNotChecked;
    c.why.push_back("the manifest records no SNP policy");
    return c;
  }
  if (parse_word(c.expected, ~0ull) == r.policy) {
    c.why.push_back("POLICY is the recipe's policy word");
    return c;
  }
  c.status = ExplainStatus::kMismatch;
  std::string problem;
  const auto want = snp::decode_snp_policy(parse_word(c.expected, 0), &problem);
  const auto got = snp::decode_snp_policy(r.policy, &problem);
  if (!want || !got) {
    c.why.push_back("POLICY " + c.actual + " is not a policy mkguest writes: " + problem);
    return c;
  }
  auto field = [&](const char* name, auto a, auto b) {
    if (a != b)
      c.why.push_back(std::string(name) + ": the recipe has " + std::to_string(+a) +
                      ", the VM was launched with " + std::to_string(+b));
  };
  field("abi_major", want->abi_major, got->abi_major);
  field("abi_minor", want->abi_minor, got->abi_minor);
  field("smt_allowed", want->smt_allowed, got->smt_allowed);
  field("migrate_ma", want->migrate_ma, got->migrate_ma);
  field("debug", want->debug, got->debug);
  field("single_socket", want->single_socket, got->single_socket);
  return c;
}

}  // namespace

ExplainResult explain_snp_report(const VerifyContext& ctx, const evidence::SnpReport& report,
                                 const std::string& evidence_name, const ExplainOptions& opts) {
  ExplainResult res{evidence_name, "snp-report", {}};
  res.checks.push_back(check_measurement(ctx, report, opts));
  res.checks.push_back(check_host_data(ctx, report));
  res.checks.push_back(check_policy(ctx, report));
  res.checks.push_back(check_snp_signature(report, opts.certificate, opts.certificate_name,
                                           opts.chain, opts.chain_name));
  return res;
}

}  // namespace mkguest::attest
