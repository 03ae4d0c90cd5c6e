// The `snp` check of `mkguest verify`: every launch digest of the manifest's
// measurements.snp re-derived from the artifacts in OUTDIR (kernel, initrd,
// cmdline) and the firmware input, found through VerifyContext::input_dirs
// and checked against its recorded sha256 first; and each entry's ID block
// and ID auth when the recipe asked for them.
#include <cstdio>
#include <cstdlib>
#include <type_traits>

#include "base/byte_reader.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/measure/snp_policy.h"
#include "builder/verify/verify.h"
#include "firmware/snp_id_block.h"
#include "firmware/snp_measure.h"

namespace mkguest::attest {
namespace fs = std::filesystem;

namespace {

// measurements.snp.covers against what the entries bind: the firmware
// always; the kernel, initrd and cmdline when every digest measured the SEV
// hashes table; the rootfs when, besides, the cmdline carries the verity
// root hash. A manifest without `covers` (before it was recorded) is
// reported too: it cannot tell a verifier that its value binds no kernel.
void check_snp_covers(const json& snp, bool hashed, const std::string& cmdline,
                      const std::string& root_hash, std::vector<Finding>* findings) {
  const json* covers = find(snp, {"covers"});
  if (!covers || !covers->is_object()) {
    findings->push_back({"snp", "covers", "missing: the manifest does not say what it binds"});
    return;
  }
  const bool rootfs = hashed && !root_hash.empty() && cmdline.find(root_hash) != std::string::npos;
  const std::pair<const char*, bool> want[] = {{"firmware", true},
                                               {"kernel", hashed},
                                               {"initrd", hashed},
                                               {"cmdline", hashed},
                                               {"rootfs", rootfs}};
  for (const auto& [part, bound] : want) {
    const json* v = find(*covers, {part});
    if (!v || !v->is_boolean() || v->get<bool>() != bound)
      findings->push_back({"snp", std::string("covers.") + part,
                           "differs: manifest " + (v ? v->dump() : std::string("(none)")) +
                               ", derived " + (bound ? "true" : "false")});
  }
}

// measurements.snp.policy: `value` is the word of the fields beside it
// (snp::snp_policy_word, the one encoder the build used).
void check_snp_policy(const json& snp, std::vector<Finding>* findings) {
  const json* p = find(snp, {"policy"});
  if (!p || !p->is_object()) {
    findings->push_back({"snp", "policy", "missing from the manifest"});
    return;
  }
  auto field = [&](const char* name, auto* out) {
    const json* v = find(*p, {name});
    using T = std::remove_pointer_t<decltype(out)>;
    if constexpr (std::is_same_v<T, bool>) {
      if (!v || !v->is_boolean()) return false;
      *out = v->get<bool>();
    } else {
      if (!v || !v->is_number_unsigned() || v->get<std::uint64_t>() > 255) return false;
      *out = static_cast<T>(v->get<std::uint64_t>());
    }
    return true;
  };
  snp::SnpPolicy want;
  for (const bool ok :
       {field("abi_major", &want.abi_major), field("abi_minor", &want.abi_minor),
        field("smt_allowed", &want.smt_allowed), field("migrate_ma", &want.migrate_ma),
        field("debug", &want.debug), field("single_socket", &want.single_socket)})
    if (!ok) {
      findings->push_back({"snp", "policy", "a policy field is missing or out of range"});
      return;
    }
  const std::string value = find_string(*p, {"value"});
  char derived[24];
  std::snprintf(derived, sizeof derived, "0x%llx",
                static_cast<unsigned long long>(snp::snp_policy_word(want)));
  if (value != derived)
    findings->push_back({"snp", "policy.value",
                         "differs: manifest " + value + ", derived from its fields " + derived});
}

// An entry's ID block and ID auth (measurements.snp.id_block): the block is
// the one snp_id_block_bytes makes of the entry's digest and the recorded
// ids, SVN and policy; both signatures in the ID auth verify; the key digests
// are those of the key structures it carries.
void check_snp_id_block(const json& snp, const json& e, const std::string& subject,
                        std::vector<Finding>* findings) {
  const json* ids = find(snp, {"id_block"});
  Bytes block, auth;
  if (!base64_decode(find_string(e, {"id_block"}), &block) ||
      !base64_decode(find_string(e, {"id_auth"}), &auth) || block.size() != 96 ||
      auth.size() != 4096 || !ids) {
    findings->push_back(
        {"snp", subject + ".id_block", "not a 96-byte ID block and 4096-byte auth"});
    return;
  }
  SnpIdBlockInputs in;
  const json* svn = find(*ids, {"guest_svn"});
  if (!from_hex(find_string(e, {"digest"}), &in.launch_digest) ||
      !from_hex(find_string(*ids, {"family_id"}), &in.family_id) ||
      !from_hex(find_string(*ids, {"image_id"}), &in.image_id) || !svn ||
      !svn->is_number_unsigned() || in.launch_digest.size() != 48 || in.family_id.size() != 16 ||
      in.image_id.size() != 16) {
    findings->push_back({"snp", subject + ".id_block", "its recorded fields are malformed"});
    return;
  }
  in.guest_svn = svn->get<std::uint32_t>();
  in.policy = parse_hex_or(find_string(snp, {"policy", "value"}), 0);
  if (snp_id_block_bytes(in) != block)
    findings->push_back({"snp", subject + ".id_block",
                         "differs from the ID block of the entry's digest, ids, SVN and policy"});
  const Bytes id_key(auth.begin() + 0x240, auth.begin() + 0x644);
  const Bytes author_key(auth.begin() + 0x880, auth.begin() + 0xc84);
  if (!snp_verify_signature(id_key, Bytes(auth.begin() + 0x40, auth.begin() + 0x240), block))
    findings->push_back({"snp", subject + ".id_auth", "the ID block signature does not verify"});
  if (!snp_verify_signature(author_key, Bytes(auth.begin() + 0x680, auth.begin() + 0x880), id_key))
    findings->push_back({"snp", subject + ".id_auth", "the ID key signature does not verify"});
  if (to_hex(digest(HashAlg::kSha384, id_key)) != find_string(snp, {"id_key_digest"}))
    findings->push_back({"snp", "id_key_digest", "differs from the ID key in " + subject});
  if (to_hex(digest(HashAlg::kSha384, author_key)) != find_string(snp, {"author_key_digest"}))
    findings->push_back({"snp", "author_key_digest", "differs from the author key in " + subject});
}

}  // namespace

std::uint64_t parse_hex_or(const std::string& s, std::uint64_t fallback) {
  if (s.empty()) return fallback;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
  return end && *end == '\0' ? v : fallback;
}

std::string output_cmdline(const VerifyContext& ctx) {
  const std::string f = output_file(ctx.manifest, "cmdline");
  if (f.empty()) return {};
  const Bytes c = read_file(ctx.output_path(f));
  return std::string(c.begin(), c.end());
}

SevHashes output_sev_hashes(const VerifyContext& ctx, const std::string& cmdline) {
  auto file_sha = [&](const std::string& role) -> Bytes {
    const std::string f = output_file(ctx.manifest, role);
    if (f.empty()) return digest(HashAlg::kSha256, "");
    return digest_file(HashAlg::kSha256, ctx.output_path(f));
  };
  return sev_hashes_from(file_sha("kernel"), file_sha("initrd"), cmdline);
}

std::string output_file(const json& manifest, const std::string& role) {
  if (const json* outs = find(manifest, {"outputs"}); outs && outs->is_array())
    for (const auto& o : *outs)
      if (find_string(o, {"role"}) == role) return find_string(o, {"file"});
  return {};
}

fs::path VerifyContext::find_input(const std::string& recorded) const {
  if (recorded.empty()) return {};
  const fs::path p(recorded);
  std::error_code ec;
  if (p.is_absolute()) return fs::exists(p, ec) ? p : fs::path();
  for (const auto& dir : input_dirs)
    if (fs::exists(dir / p, ec)) return dir / p;
  return {};
}

FirmwareInput find_firmware(const VerifyContext& ctx, const json& measurement,
                            const std::string& check, std::vector<Finding>* findings) {
  FirmwareInput in;
  in.file = ctx.find_input(find_string(measurement, {"firmware", "path"}));
  if (in.file.empty()) return in;  // nothing to re-derive from: reported as skipped
  in.found = true;
  in.bytes = read_file(in.file);
  const std::string want = find_string(measurement, {"firmware", "sha256"});
  in.matches = to_hex(digest(HashAlg::kSha256, in.bytes)) == want;
  if (!in.matches)
    findings->push_back({check, in.file.string(),
                         "the firmware is not the one the manifest names (sha256 " + want + ")"});
  return in;
}

bool check_snp(const VerifyContext& ctx, std::vector<Finding>* findings) {
  const json* snp = find(ctx.manifest, {"measurements", "snp"});
  if (!snp) return false;
  const FirmwareInput fw_in = find_firmware(ctx, *snp, "snp", findings);
  if (!fw_in.found) return false;
  if (!fw_in.matches) return true;
  check_snp_policy(*snp, findings);
  const Bytes& fw = fw_in.bytes;
  const fs::path& fw_file = fw_in.file;
  ByteReader reader(fw, fw_file.string());
  const SevFirmware parsed = parse_sev_firmware(reader);
  const Bytes ovmf_hash = snp_ovmf_hash(fw);
  if (to_hex(ovmf_hash) != find_string(*snp, {"ovmf_hash"}))
    findings->push_back({"snp", "ovmf_hash",
                         "differs: manifest " + find_string(*snp, {"ovmf_hash"}) + ", derived " +
                             to_hex(ovmf_hash)});
  const std::string cmdline = output_cmdline(ctx);
  const json* entries = find(*snp, {"launch_digests"});
  if (!entries || !entries->is_array()) return true;
  std::optional<SevHashes> table;
  std::size_t index = 0;
  bool all_hashed = !entries->empty();
  for (const auto& e : *entries) {
    const json* hashed = find(e, {"kernel_hashes"});
    all_hashed = all_hashed && hashed && hashed->is_boolean() && hashed->get<bool>();
  }
  check_snp_covers(*snp, all_hashed, cmdline, find_string(ctx.manifest, {"verity", "root_hash"}),
                   findings);
  for (const auto& e : *entries) {
    const std::string subject = "launch_digests[" + std::to_string(index++) + "]";
    SnpInputs in;
    const std::string vmm = find_string(e, {"vmm"}, "QEMU");
    in.vmm = vmm == "ec2" ? VmmType::kEc2 : vmm == "gce" ? VmmType::kGce : VmmType::kQemu;
    const json* vcpus = find(e, {"vcpus"});
    in.vcpus = vcpus && vcpus->is_number_unsigned() ? vcpus->get<std::uint32_t>() : 1;
    in.vcpu_sig = static_cast<std::uint32_t>(parse_hex_or(find_string(e, {"vcpu_sig"}), 0));
    in.guest_features = parse_hex_or(find_string(e, {"guest_features"}), 1);
    const json* kh = find(e, {"kernel_hashes"});
    if (kh && kh->is_boolean() && kh->get<bool>()) {
      if (!table) table = output_sev_hashes(ctx, cmdline);
      in.hashes = table;
    }
    in.ovmf_hash = ovmf_hash;
    const std::string derived = to_hex(snp_launch_digest(fw, parsed, in, fw_file.string()));
    const std::string recorded = find_string(e, {"digest"});
    if (derived != recorded)
      findings->push_back(
          {"snp", subject, "differs: manifest " + recorded + ", derived " + derived});
    if (find(e, {"id_block"}) || find(e, {"id_auth"}))
      check_snp_id_block(*snp, e, subject, findings);
  }
  return true;
}

}  // namespace mkguest::attest
