// Kata QEMU configuration drop-ins from a manifest; see kata.h. Every key
// written is a key of the platform's template (configuration-qemu-<platform>.toml.in
// at kata-containers 7c6ba40c), except `initrd` (katautils/config.go's
// hypervisor struct), written only for an initrd boot.
#include <algorithm>
#include <set>
#include <sstream>

#include "base/error.h"
#include "builder/attest/kata.h"

namespace mkguest::attest {

namespace {

// A TOML basic string.
std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      static const char* kHex = "0123456789ABCDEF";
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

// Typed reads of a manifest that may be hand-edited (`mkguest export kata`):
// a missing key or another type reads as absent.
bool is_true(const json& j, const char* key) {
  const json* v = find(j, {key});
  return v && v->is_boolean() && v->get<bool>();
}
std::optional<std::uint64_t> uint_at(const json& j, const char* key) {
  const json* v = find(j, {key});
  if (!v || !v->is_number_integer() || v->get<std::int64_t>() < 0) return std::nullopt;
  return static_cast<std::uint64_t>(v->get<std::int64_t>());
}

bool covers_cmdline(const json* section) {
  const json* c = section ? find(*section, {"covers", "cmdline"}) : nullptr;
  return c && c->is_boolean() && c->get<bool>();
}

struct Inputs {
  std::map<std::string, std::string> files;  // role -> file in the output directory
  std::string cmdline;
  std::string verity_params;  // "" when the image carries none
  bool image = false;
};

Inputs read_inputs(const json& m) {
  Inputs in;
  if (const json* outs = find(m, {"outputs"}); outs && outs->is_array()) {
    for (const auto& o : *outs) in.files[find_string(o, {"role"})] = find_string(o, {"file"});
  }
  in.cmdline = find_string(m, {"cmdline"});
  const bool se_only = in.files.count("se") && !in.files.count("kernel");
  if (se_only) return in;
  if (!in.files.count("kernel"))
    throw ValueError("Kata boots a kernel file: the build has no `kernel` output (outputs.direct)");
  const bool disk = in.files.count("disk") > 0;
  if (in.files.count("rootfs") && !disk)
    throw ValueError(
        "Kata attaches the image as a disk whose partition 1 is the root "
        "(/dev/vda1): set rootfs.verity.layout: partitioned");
  if (disk && in.files.count("initrd"))
    throw ValueError(
        "Kata's runtime takes an image or an initrd, not both (katautils/config.go: "
        "\"having both an image and an initrd ... is not supported\"), and this "
        "build measures both");
  if (!disk && !in.files.count("initrd"))
    throw ValueError("Kata's runtime needs an image or an initrd, and this build has neither");
  in.image = disk;
  if (disk) {
    const json* v = find(m, {"verity"});
    if (!v) throw ValueError("the disk image has no verity tree: Kata would mount it unchecked");
    const json* opts = find(*v, {"options"});
    const bool ok = find_string(*v, {"layout"}) == "partitioned" && !is_true(*v, "superblock") &&
                    find(*v, {"superblock"}) && uint_at(*v, "hash_start_block") == 0u &&
                    uint_at(*v, "format") == 1u && find_string(*v, {"hash"}) == "sha256" && opts &&
                    opts->is_array() && opts->empty();
    if (!ok)
      throw ValueError(
          "Kata's kernel_verity_params fix the table to format 1, sha256, no "
          "superblock, the hash tree at block 0 of partition 2 and no options");
    in.verity_params = find_string(*v, {"cmdline", "kata_params"});
    auto parsed = parse_kata_verity_params(in.verity_params);
    if (!parsed || parsed->root_hash != find_string(*v, {"root_hash"}))
      throw InternalError("manifest verity.cmdline.kata_params does not carry its root hash");
  }
  return in;
}

struct Platform {
  std::string name;  // snp, tdx, se, coco-dev
  std::uint32_t vcpus = 1;
  std::string comment;  // what was measured
  bool cmdline_measured = false;
  // SEV-SNP: the entry's ID block and ID auth (measurements.snp.id_block), base64.
  std::string snp_id_block, snp_id_auth;
};

std::vector<Platform> platforms(const json& m, const Inputs& in, const KataOptions& o) {
  std::vector<Platform> out;
  const json* snp = find(m, {"measurements", "snp"});
  if (snp && !in.files.count("se")) {
    std::map<std::uint32_t, const json*> by_vcpus;
    if (const json* lds = find(*snp, {"launch_digests"}); lds && lds->is_array()) {
      for (const auto& ld : *lds) {
        // qemu_amd64.go cpuModel(): SNP guests run -cpu EPYC-v4; govmm qemu.go adds
        // kernel-hashes=on to every sev-snp-guest object.
        if (find_string(ld, {"vcpu_type"}) != "EPYC-v4" || find_string(ld, {"mode"}) != "snp")
          continue;
        if (!is_true(ld, "kernel_hashes"))
          throw ValueError(
              "Kata starts SEV-SNP guests with kernel-hashes=on, but this launch "
              "digest was measured without kernel hashes");
        const auto n = uint_at(ld, "vcpus");
        if (!n || *n == 0 || *n > 4096) throw ValueError("an SNP launch digest has no vCPU count");
        by_vcpus[static_cast<std::uint32_t>(*n)] = &ld;
      }
    }
    if (by_vcpus.empty())
      throw ValueError(
          "Kata starts SEV-SNP guests with -cpu EPYC-v4 (qemu_amd64.go cpuModel): "
          "add EPYC-v4 to measurements.snp.vcpu_types");
    for (const auto& [n, ld] : by_vcpus)
      out.push_back({"snp", n,
                     "SEV-SNP launch digest " + find_string(*ld, {"digest"}) + " (" +
                         std::to_string(n) + " vCPU, EPYC-v4, kernel hashes)",
                     covers_cmdline(snp), find_string(*ld, {"id_block"}),
                     find_string(*ld, {"id_auth"})});
  }
  if (const json* tdx = find(m, {"measurements", "tdx"}); tdx && !in.files.count("se")) {
    if (find_string(*tdx, {"boot"}).rfind("uki", 0) == 0)
      throw ValueError(
          "TDX was measured booting the UKI; Kata boots the kernel and an image "
          "or initrd");
    std::string mrtd = find_string(*tdx, {"mr_td", "single-pass"});
    out.push_back({"tdx", o.vcpus, "TDX MRTD " + mrtd, covers_cmdline(tdx), {}, {}});
  }
  if (find(m, {"measurements", "se"}) && in.files.count("se"))
    out.push_back({"se", o.vcpus, "IBM SE image " + in.files.at("se"), false, {}, {}});
  if (in.files.count("kernel"))
    out.push_back({"coco-dev", o.vcpus, "nothing (no TEE)", false, {}, {}});
  return out;
}

}  // namespace

std::vector<KataDropIn> kata_drop_ins(const json& m, const KataOptions& o) {
  if (o.install_dir.empty() || o.install_dir.front() != '/')
    throw ValueError("install_dir must be an absolute path");
  std::string dir = o.install_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const auto host = [&](const std::string& file) { return dir + "/" + file; };
  const Inputs in = read_inputs(m);
  const std::vector<Platform> plats = platforms(m, in, o);

  const json* tdx_ram = find(m, {"measurements", "tdx", "ram_mib"});
  std::uint64_t memory = o.memory_mib.value_or(2048);
  if (tdx_ram && tdx_ram->is_number_integer() && tdx_ram->get<std::int64_t>() > 0) {
    const auto ram = static_cast<std::uint64_t>(tdx_ram->get<std::int64_t>());
    if (o.memory_mib && *o.memory_mib != ram)
      throw ValueError("memory_mib " + std::to_string(*o.memory_mib) +
                       " is not the memory TDX was measured with (" + std::to_string(ram) +
                       " MiB)");
    memory = ram;
  }

  KataShape shape;
  shape.image = in.image;
  shape.rootfs_type = o.rootfs_type;
  shape.verity_params = in.verity_params;
  shape.guest_selinux = o.guest_selinux;
  shape.block_device_driver = o.block_device_driver;
  const std::string prefix = join(kata_runtime_params(shape)) + " ";
  std::string kernel_params = in.cmdline;
  if (in.cmdline.rfind(prefix, 0) == 0) {
    kernel_params = in.cmdline.substr(prefix.size());
  } else {
    for (const auto& p : plats)
      if (p.cmdline_measured && p.name != "coco-dev")
        throw ValueError(
            "Kata's runtime puts its own parameters before kernel_params, so the "
            "measured cmdline must begin with them: \"" +
            prefix.substr(0, prefix.size() - 1) + "\"");
  }
  if (in.files.count("kernel")) check_kata_kernel_params(kernel_params);

  std::vector<KataDropIn> out;
  const auto snp_count =
      std::count_if(plats.begin(), plats.end(), [](const Platform& p) { return p.name == "snp"; });
  for (const auto& p : plats) {
    KataDropIn d;
    d.platform = p.name;
    d.vcpus = p.vcpus;
    d.memory_mib = memory;
    d.file = "kata/configuration-qemu-" + p.name +
             (p.name == "snp" && snp_count > 1 ? "-" + std::to_string(p.vcpus) + "vcpus" : "") +
             ".toml";
    const bool confidential = p.name != "coco-dev";
    KataShape s = shape;
    s.confidential = confidential;
    s.max_vcpus = p.vcpus;
    s.cdh_api_timeout = p.name == "coco-dev" ? 50 : 0;  // the coco-dev template's value
    if (p.name != "se") {
      d.kernel_params = kernel_params;
      d.cmdline = join(kata_runtime_params(s)) + " " + kernel_params;
      d.cmdline_measured = p.cmdline_measured && d.cmdline == in.cmdline;
    }
    if (confidential && p.name != "se" && !o.firmware.count(p.name))
      throw ValueError("exports.kata.firmware needs the host path of the " + p.name +
                       " firmware that was measured");
    std::ostringstream t;
    t << "# Kata Containers drop-in for configuration-qemu-" << p.name << ".toml, written by "
      << "mkguest for " << find_string(m, {"recipe", "name"}) << " "
      << find_string(m, {"recipe", "version"}) << ".\n"
      << "# Install it as <configuration dir>/config.d/90-mkguest.toml (docs/kata.md §10).\n"
      << "# Measured: " << p.comment << ".\n";
    const std::string fw = find_string(m, {"measurements", p.name, "firmware", "sha256"});
    if (!fw.empty()) t << "# firmware sha256 " << fw << " (install it at `firmware`).\n";
    if (p.name == "se") {
      t << "# The SE image holds its own, encrypted kernel cmdline: no kernel_params here.\n";
    } else {
      t << "# The guest's kernel cmdline (kata-runtime's parameters, then kernel_params):\n#   "
        << d.cmdline << "\n"
        << (d.cmdline_measured ? "# This is the measured cmdline.\n"
                               : "# The measurements do not bind this cmdline.\n");
    }
    t << "\n[hypervisor.qemu]\n";
    const std::string kernel = p.name == "se" ? in.files.at("se") : in.files.at("kernel");
    t << "kernel = " << toml_string(host(kernel)) << "\n";
    if (p.name != "se") {
      if (in.image) {
        t << "image = " << toml_string(host(in.files.at("disk"))) << "\n"
          << "rootfs_type = " << toml_string(o.rootfs_type) << "\n";
      } else {
        t << "image = \"\"\n"
          << "initrd = " << toml_string(host(in.files.at("initrd"))) << "\n";
      }
      t << "kernel_params = " << toml_string(kernel_params) << "\n"
        << "kernel_verity_params = " << toml_string(in.verity_params) << "\n";
    }
    if (o.firmware.count(p.name)) t << "firmware = " << toml_string(o.firmware.at(p.name)) << "\n";
    t << "machine_type = " << toml_string(p.name == "se" ? "s390-ccw-virtio" : o.machine_type)
      << "\n";
    if (confidential) t << "confidential_guest = true\n";
    if (p.name == "snp") {
      const std::string pol = find_string(m, {"measurements", "snp", "policy", "value"});
      std::uint64_t policy = 0;
      if (pol.size() < 3 || pol.size() > 18 || pol.compare(0, 2, "0x") != 0 ||
          pol.find_first_not_of("0123456789abcdef", 2) != std::string::npos)
        throw ValueError("the manifest's SNP policy value '" + pol + "' is not hex");
      for (std::size_t i = 2; i < pol.size(); ++i)
        policy = policy * 16 +
                 static_cast<std::uint64_t>(pol[i] <= '9' ? pol[i] - '0' : pol[i] - 'a' + 10);
      t << "sev_snp_guest = true\n"
        << "snp_guest_policy = " << policy << "\n";
      // The ID block and ID auth of this launch digest (QEMU's sev-snp-guest
      // id-block= and id-auth=, base64), when the recipe signed them.
      if (!p.snp_id_block.empty())
        t << "snp_id_block = " << toml_string(p.snp_id_block) << "\n"
          << "snp_id_auth = " << toml_string(p.snp_id_auth) << "\n";
    }
    t << "default_vcpus = " << p.vcpus << "\n"
      << "default_maxvcpus = " << p.vcpus << "\n"
      << "default_memory = " << memory << "\n"
      << "disable_image_nvdimm = true\n"
      << "block_device_driver = " << toml_string(o.block_device_driver) << "\n"
      << "enable_debug = false\n"
      << "enable_iommu = false\n"
      << "use_legacy_serial = false\n"
      << "disable_guest_selinux = " << (o.guest_selinux ? "false" : "true") << "\n"
      << "\n[agent.kata]\n"
      << "enable_debug = false\n"
      << "enable_tracing = false\n"
      << "debug_console_enabled = false\n"
      << "launch_process_timeout = 6\n";
    if (p.name == "coco-dev") t << "cdh_api_timeout = 50\n";
    t << "\n[runtime]\n"
      << "static_sandbox_resource_mgmt = true\n";
    d.text = t.str();
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace mkguest::attest
