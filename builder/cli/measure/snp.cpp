// `mkguest measure snp`: a drop-in for sev-snp-measure 0.0.13 (same options,
// same output), and `mkguest measure snp-id-block`.
#include <cstdio>
#include <iostream>

#include <openssl/evp.h>

#include "base/error.h"
#include "base/file.h"
#include "builder/cli/commands.h"
#include "firmware/snp_id_block.h"
#include "firmware/snp_measure.h"

namespace mkguest::cli {

namespace {

struct SnpArgs {
  std::string mode;
  std::optional<std::uint32_t> vcpus;
  std::string vcpu_type;
  std::string vcpu_sig, vcpu_family, vcpu_model, vcpu_stepping;
  std::string vmm_type = "QEMU";
  std::string ovmf, kernel, initrd;
  std::optional<std::string> append;
  std::string guest_features = "0x1";
  std::string output_format = "hex";
  std::string snp_ovmf_hash;
  std::string svsm, vars_file;
  std::optional<std::uint64_t> vars_size;
  bool verbose = false;
};

// Python's int(s, 0): decimal, 0x hex, 0o octal or 0b binary.
std::uint64_t auto_int(const std::string& s, const std::string& opt) {
  std::size_t pos = 0;
  std::string t = s;
  int base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
    base = 16, t = t.substr(2);
  else if (t.size() > 2 && t[0] == '0' && (t[1] == 'o' || t[1] == 'O'))
    base = 8, t = t.substr(2);
  else if (t.size() > 2 && t[0] == '0' && (t[1] == 'b' || t[1] == 'B'))
    base = 2, t = t.substr(2);
  try {
    std::uint64_t v = std::stoull(t, &pos, base);
    if (pos == t.size() && !t.empty() && t[0] != '-' && t[0] != '+') return v;
  } catch (const std::exception&) {
  }
  throw UsageError("argument " + opt + ": invalid value: '" + s + "'");
}

void run(const SnpArgs& a) {
  SevMode mode;
  if (a.mode == "sev")
    mode = SevMode::kSev;
  else if (a.mode == "seves")
    mode = SevMode::kSevEs;
  else if (a.mode == "snp" || a.mode == "snp:ovmf-hash")
    mode = SevMode::kSnp;
  else if (a.mode == "snp:svsm")
    mode = SevMode::kSnpSvsm;
  else
    throw UsageError("argument --mode: invalid choice: '" + a.mode + "'");

  MappedFile ovmf(a.ovmf);
  ByteReader reader(ovmf.bytes(), a.ovmf);
  SevFirmware fw = parse_sev_firmware(reader);
  auto print = [&](const Bytes& ld, const char* name) {
    std::string text;
    if (a.output_format == "base64") {
      std::string b64(4 * ((ld.size() + 2) / 3) + 1, '\0');
      int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), ld.data(),
                              static_cast<int>(ld.size()));
      text = b64.substr(0, static_cast<std::size_t>(n));
    } else {
      text = to_hex(ld);
    }
    if (a.verbose) std::cout << "Calculated " << name << " guest measurement: ";
    std::cout << text << "\n";
  };
  if (a.mode == "snp:ovmf-hash") {
    std::cout << to_hex(snp_ovmf_hash(ovmf.bytes())) << "\n";
    return;
  }
  if (!a.initrd.empty() && a.kernel.empty())
    throw UsageError("--kernel required when using --initrd");
  if (a.append && !a.append->empty() && a.kernel.empty()) {
    throw UsageError("--kernel required when using --append");
  }
  if (mode != SevMode::kSev && !a.vcpus) {
    throw UsageError("missing --vcpus N in guest mode '" + a.mode + "'");
  }
  SnpInputs in;
  in.mode = mode;
  if (a.vmm_type == "QEMU")
    in.vmm = VmmType::kQemu;
  else if (a.vmm_type == "ec2")
    in.vmm = VmmType::kEc2;
  else if (a.vmm_type == "gce")
    in.vmm = VmmType::kGce;
  else
    throw UsageError("unknown VMM type '" + a.vmm_type + "'");
  in.vcpus = a.vcpus.value_or(0);
  if (mode == SevMode::kSev) {
    in.vcpu_sig = 0;
  } else if (!a.vcpu_family.empty()) {
    in.vcpu_sig = snp_cpu_signature(
        static_cast<std::uint32_t>(auto_int(a.vcpu_family, "--vcpu-family")),
        static_cast<std::uint32_t>(a.vcpu_model.empty() ? 0
                                                        : auto_int(a.vcpu_model, "--vcpu-model")),
        static_cast<std::uint32_t>(
            a.vcpu_stepping.empty() ? 0 : auto_int(a.vcpu_stepping, "--vcpu-stepping")));
  } else if (!a.vcpu_sig.empty()) {
    in.vcpu_sig = static_cast<std::uint32_t>(auto_int(a.vcpu_sig, "--vcpu-sig"));
  } else if (!a.vcpu_type.empty()) {
    if (!snp_vcpu_signature(a.vcpu_type, &in.vcpu_sig)) {
      throw UsageError("argument --vcpu-type: invalid choice: '" + a.vcpu_type + "'");
    }
  } else if (in.vmm == VmmType::kQemu) {
    throw UsageError("missing --vcpu-type or --vcpu-sig or --vcpu-family in guest mode '" + a.mode +
                     "'");
  }
  in.guest_features = auto_int(a.guest_features, "--guest-features");
  if (!a.snp_ovmf_hash.empty()) {
    if (mode != SevMode::kSnp) throw UsageError("--snp-ovmf-hash only works with --mode snp");
    Bytes h;
    if (!from_hex(a.snp_ovmf_hash, &h) || h.size() != 48) {
      throw UsageError("--snp-ovmf-hash must be 96 hex digits (a SHA-384 digest)");
    }
    in.ovmf_hash = h;
  }
  if (!a.kernel.empty()) {
    // Streamed: memory stays constant however large kernel and initrd are.
    in.hashes = sev_hashes_from(
        digest_file(HashAlg::kSha256, a.kernel),
        a.initrd.empty() ? digest(HashAlg::kSha256, "") : digest_file(HashAlg::kSha256, a.initrd),
        a.append.value_or(""));
  }
  const char* names[] = {"SEV", "SEV_ES", "SEV_SNP", "SEV_SNP_SVSM"};
  const char* name = names[static_cast<int>(mode)];
  if (mode == SevMode::kSnpSvsm) {
    if (in.vmm != VmmType::kQemu) throw UsageError("snp:svsm mode is only implemented for QEMU");
    if (a.svsm.empty()) throw UsageError("snp:svsm mode requires --svsm");
    if (!a.vars_file.empty()) {
      in.vars_size = MappedFile(a.vars_file).size();
    } else if (a.vars_size && *a.vars_size) {
      in.vars_size = *a.vars_size;
    } else {
      throw UsageError("snp:svsm mode requires --vars-size or --vars-file");
    }
    MappedFile svsm(a.svsm);
    ByteReader sr(svsm.bytes(), a.svsm);
    SevFirmware svsm_fw = parse_sev_firmware(sr);
    print(snp_launch_digest(ovmf.bytes(), fw, in, a.ovmf, svsm.bytes(), &svsm_fw), name);
    return;
  }
  print(snp_launch_digest(ovmf.bytes(), fw, in, a.ovmf), name);
}

struct IdBlockArgs {
  std::string measurement, idkey, authorkey;
  std::string policy = "0x30000", family_id, image_id;
  std::uint32_t guest_svn = 0;
  std::string host_data;  // hex, 32 bytes: SNP_LAUNCH_FINISH's HOST_DATA (not in the ID block)
};

Bytes id_field(const std::string& hex, const std::string& opt) {
  if (hex.empty()) return Bytes(16, 0);
  Bytes b;
  if (!from_hex(hex, &b) || b.size() != 16) throw UsageError(opt + " must be 32 hex digits");
  return b;
}

void run_id_block(const IdBlockArgs& a) {
  // snp-create-id-block fails on an empty key path (open("")); so does this,
  // naming the option.
  if (a.idkey.empty()) throw UsageError("--idkey: an empty value names no key file");
  if (a.authorkey.empty()) throw UsageError("--authorkey: an empty value names no key file");
  SnpIdBlockInputs in;
  std::string m = a.measurement;
  Bytes ld(m.size(), 0);
  int n = EVP_DecodeBlock(ld.data(), reinterpret_cast<const unsigned char*>(m.data()),
                          static_cast<int>(m.size()));
  std::size_t pad = m.size() >= 2 ? (m[m.size() - 1] == '=') + (m[m.size() - 2] == '=') : 0;
  if (n < 0 || m.size() % 4 != 0 || static_cast<std::size_t>(n) - pad != 48) {
    throw UsageError("--measurement must be a 48-byte launch digest in base64");
  }
  ld.resize(48);
  in.launch_digest = ld;
  in.policy = auto_int(a.policy, "--policy");
  in.guest_svn = a.guest_svn;
  in.family_id = id_field(a.family_id, "--family-id");
  in.image_id = id_field(a.image_id, "--image-id");
  Bytes host_data;
  if (!a.host_data.empty() && (!from_hex(a.host_data, &host_data) || host_data.size() != 32)) {
    throw UsageError(
        "--host-data must be 64 hex digits (32 bytes, as `measure initdata "
        "--platform snp` prints)");
  }
  SnpIdBlock out = snp_make_id_block(in, read_text_file(a.idkey), a.idkey,
                                     read_text_file(a.authorkey), a.authorkey);
  // HOST_DATA is a parameter of SNP_LAUNCH_FINISH beside the ID block and
  // auth structure: it changes neither (nor the launch digest), and QEMU takes
  // it on the same sev-snp-guest object (docs/kata.md §5).
  std::cout << "id-block=" << base64_encode(out.id_block)
            << ",id-auth=" << base64_encode(out.id_auth);
  if (!host_data.empty()) std::cout << ",host-data=" << base64_encode(host_data);
  std::cout << "\n"
            << "id_key_hash: " << base64_encode(out.id_key_digest) << "\n"
            << "author_key: " << base64_encode(out.author_key_digest) << "\n";
}

}  // namespace

void register_measure_snp(CLI::App& app) {
  auto ib = std::make_shared<IdBlockArgs>();
  auto* idc = measure_group(app)->add_subcommand(
      "snp-id-block",
      "SEV-SNP ID block and ID auth from P-384 keys (snp-create-id-block's options and output)");
  idc->add_option("--measurement", ib->measurement, "Launch digest in base64")->required();
  idc->add_option("--idkey", ib->idkey, "ID private key (PEM, EC P-384)")->required();
  idc->add_option("--authorkey", ib->authorkey, "Author private key (PEM, EC P-384)")->required();
  idc->add_option("--policy", ib->policy, "Guest policy (default 0x30000, as snp-create-id-block)");
  idc->add_option("--guest-svn", ib->guest_svn, "Guest SVN (default 0)");
  idc->add_option("--family-id", ib->family_id, "Family ID, 32 hex digits (default zeros)");
  idc->add_option("--image-id", ib->image_id, "Image ID, 32 hex digits (default zeros)");
  idc->add_option("--host-data", ib->host_data,
                  "SNP HOST_DATA, 64 hex digits (measure initdata --platform snp): added to the "
                  "QEMU line as host-data=");
  idc->callback([ib] { run_id_block(*ib); });

  auto a = std::make_shared<SnpArgs>();
  auto* cmd = measure_group(app)->add_subcommand(
      "snp", "AMD SEV/SEV-ES/SEV-SNP launch digest (sev-snp-measure 0.0.13 options and output)");
  cmd->add_option("--mode", a->mode, "Guest mode: sev, seves, snp, snp:ovmf-hash, snp:svsm")
      ->required();
  cmd->add_option("--vcpus", a->vcpus, "Number of guest vCPUs");
  std::string types;
  for (const auto& t : snp_vcpu_types()) types += (types.empty() ? "" : ", ") + t;
  cmd->add_option("--vcpu-type", a->vcpu_type, "Type of guest vCPU (" + types + ")");
  cmd->add_option("--vcpu-sig", a->vcpu_sig, "Guest vCPU signature value (CPUID 1 EAX)");
  cmd->add_option("--vcpu-family", a->vcpu_family, "Guest vCPU family");
  cmd->add_option("--vcpu-model", a->vcpu_model, "Guest vCPU model");
  cmd->add_option("--vcpu-stepping", a->vcpu_stepping, "Guest vCPU stepping");
  cmd->add_option("--vmm-type", a->vmm_type, "Type of guest VMM (QEMU, ec2, gce)");
  cmd->add_option("--ovmf", a->ovmf, "OVMF file to calculate the hash from")->required();
  cmd->add_option("--kernel", a->kernel, "Kernel file (measured direct boot)");
  cmd->add_option("--initrd", a->initrd, "Initrd file (use with --kernel)");
  cmd->add_option("--append", a->append, "Kernel command line (use with --kernel)");
  cmd->add_option("--guest-features", a->guest_features,
                  "Guest SEV features (sev_features), default 0x1");
  cmd->add_option("--output-format", a->output_format, "hex or base64")
      ->check(CLI::IsMember({"hex", "base64"}));
  cmd->add_option("--snp-ovmf-hash", a->snp_ovmf_hash,
                  "Precalculated hash of the OVMF binary (hex), from --mode snp:ovmf-hash");
  cmd->add_option("--svsm", a->svsm, "SVSM binary (snp:svsm)");
  auto* vs = cmd->add_option("--vars-size", a->vars_size, "Size of OVMF_VARS in bytes (snp:svsm)");
  auto* vf = cmd->add_option("--vars-file", a->vars_file, "OVMF_VARS file (snp:svsm)");
  vs->excludes(vf);
  cmd->add_flag("-v,--verbose", a->verbose, "Print 'Calculated ... guest measurement:' first");
  cmd->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
