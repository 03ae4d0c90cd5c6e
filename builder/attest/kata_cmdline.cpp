// The kernel command line Kata's Go runtime gives a QEMU guest (docs/kata.md §9),
// transcribed from kata-containers at 7c6ba40c (each file's last commit in brackets):
//   virtcontainers/qemu.go kernelParameters() [71aecf91]:
//     arch.kernelParameters(debug) ++ defaultKernelParameters (panic=1)
//     ++ nr_cpus=<default_maxvcpus> (not for a confidential guest) ++ selinux=0|1
//     ++ config.KernelParams ++ kata.extension.<name>.verity_params (none here)
//   qemu_arch_base.go kernelParameters() [c7e91684]: q.kernelParams (qemu_amd64.go's
//     list, then handleImagePath's root params, then appendConsole's console=hvc0
//     console=hvc1) ++ kernelParamsNonDebug (quiet, then systemd.show_status=false
//     for an image)
//   katautils/config.go SetKernelParams [968d6e94] fills config.KernelParams:
//     create.go getKernelParams [24c51cfb] (systemd.unit/mask for an image)
//     ++ scsi_mod.scan=none (virtio-scsi) ++ kata_agent.go KataAgentKernelParams
//     [253642cc] ++ the configuration's kernel_params
//   hypervisor.go GetKernelRootParams / ParseKernelVerityParams [80e3b071]
// A confidential guest never gets NVDIMM (qemu_amd64.go newQemuArch), so the
// image is virtio-blk: /dev/vda1 (data) and /dev/vda2 (hash tree).
#include <cctype>

#include "base/error.h"
#include "builder/attest/kata.h"

namespace mkguest::attest {

namespace {

std::uint64_t parse_uint_field(const std::map<std::string, std::string>& values,
                               const std::string& name) {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty())
    throw ValueError("missing kernel_verity_params " + name);
  std::uint64_t v = 0;
  for (char c : it->second) {  // strconv.ParseUint(value, 10, 64)
    if (!std::isdigit(static_cast<unsigned char>(c)) || v > (UINT64_MAX - 9) / 10)
      throw ValueError("invalid kernel_verity_params " + name + " \"" + it->second + "\"");
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\n\r\v\f");
  if (b == std::string::npos) return {};
  std::size_t e = s.find_last_not_of(" \t\n\r\v\f");
  return s.substr(b, e - b + 1);
}

std::string root_flags(const std::string& rootfs_type) {
  if (rootfs_type == "erofs" || rootfs_type == "xfs") return "ro";
  if (rootfs_type == "ext4") return "data=ordered,errors=remount-ro ro";
  throw ValueError("unsupported rootfs type '" + rootfs_type + "' (Kata: erofs, ext4, xfs)");
}

}  // namespace

std::optional<KataVerity> parse_kata_verity_params(const std::string& params) {
  if (trim(params).empty()) return std::nullopt;
  std::map<std::string, std::string> values;
  std::size_t pos = 0;
  while (pos <= params.size()) {
    std::size_t comma = params.find(',', pos);
    if (comma == std::string::npos) comma = params.size();
    const std::string field = trim(params.substr(pos, comma - pos));
    pos = comma + 1;
    if (field.empty()) continue;
    const std::size_t eq = field.find('=');
    if (eq == std::string::npos)
      throw ValueError("invalid kernel_verity_params entry: \"" + field + "\"");
    values[field.substr(0, eq)] = field.substr(eq + 1);
  }
  KataVerity v;
  v.root_hash = values["root_hash"];
  v.salt = values["salt"];
  if (v.root_hash.empty()) throw ValueError("missing kernel_verity_params root_hash");
  v.data_blocks = parse_uint_field(values, "data_blocks");
  v.data_block_size = parse_uint_field(values, "data_block_size");
  v.hash_block_size = parse_uint_field(values, "hash_block_size");
  if (v.salt.empty()) throw ValueError("missing kernel_verity_params salt");
  if (v.data_blocks == 0 || v.data_block_size == 0 || v.hash_block_size == 0)
    throw ValueError("invalid kernel_verity_params: a size or count is zero");
  if (v.data_block_size % 512 != 0 || v.hash_block_size % 512 != 0)
    throw ValueError("invalid kernel_verity_params: block sizes must be multiples of 512");
  return v;
}

std::vector<std::string> kata_root_params(const std::string& rootfs_type_in,
                                          const std::string& verity_params) {
  const std::string rootfs_type = rootfs_type_in.empty() ? "ext4" : rootfs_type_in;
  const std::string flags = root_flags(rootfs_type);
  if (auto v = parse_kata_verity_params(verity_params)) {
    const std::uint64_t sectors = (v->data_block_size / 512) * v->data_blocks;
    const std::string table =
        "dm-verity,,,ro,0 " + std::to_string(sectors) + " verity 1 /dev/vda1 /dev/vda2 " +
        std::to_string(v->data_block_size) + " " + std::to_string(v->hash_block_size) + " " +
        std::to_string(v->data_blocks) + " 0 sha256 " + v->root_hash + " " + v->salt;
    return {"dm-mod.create=\"" + table + "\"", "root=/dev/dm-0", "rootflags=" + flags,
            "rootfstype=" + rootfs_type};
  }
  return {"root=/dev/vda1", "rootflags=" + flags, "rootfstype=" + rootfs_type};
}

std::vector<std::string> kata_runtime_params(const KataShape& s) {
  // qemu_amd64.go kernelParams (no IOMMU)
  std::vector<std::string> p = {"tsc=reliable",      "no_timer_check",  "rcupdate.rcu_expedited=1",
                                "i8042.direct=1",    "i8042.dumbkbd=1", "i8042.nopnp=1",
                                "i8042.noaux=1",     "noreplace-smp",   "reboot=k",
                                "cryptomgr.notests", "net.ifnames=0",   "pci=lastbus=0"};
  if (s.image) {
    for (auto& r : kata_root_params(s.rootfs_type, s.verity_params)) p.push_back(r);
  }
  p.insert(p.end(), {"console=hvc0", "console=hvc1", "quiet"});  // virtio console, non-debug
  if (s.image) p.push_back("systemd.show_status=false");
  p.push_back("panic=1");
  if (!s.confidential) p.push_back("nr_cpus=" + std::to_string(s.max_vcpus));
  p.push_back(s.guest_selinux ? "selinux=1" : "selinux=0");
  if (s.image) {
    p.insert(p.end(),
             {"systemd.unit=kata-containers.target", "systemd.mask=systemd-networkd.service",
              "systemd.mask=systemd-networkd.socket"});
  }
  if (s.block_device_driver == "virtio-scsi") p.push_back("scsi_mod.scan=none");
  // KataAgentKernelParams: no debug, trace, debug console or pipe size
  if (s.cdh_api_timeout > 0)
    p.push_back("agent.cdh_api_timeout=" + std::to_string(s.cdh_api_timeout));
  if (s.launch_process_timeout > 0)
    p.push_back("agent.launch_process_timeout=" + std::to_string(s.launch_process_timeout));
  return p;
}

std::string kata_runtime_params_for(const recipe::KataExportSpec& spec, bool image,
                                    const std::string& verity_params) {
  KataShape s;
  s.image = image;
  s.rootfs_type = spec.rootfs_type;
  s.verity_params = verity_params;
  s.guest_selinux = spec.guest_selinux;
  s.block_device_driver = spec.block_device_driver;
  std::string out;
  for (const auto& p : kata_runtime_params(s)) out += (out.empty() ? "" : " ") + p;
  return out;
}

void check_kata_kernel_params(const std::string& kernel_params) {
  if (kernel_params.empty())
    throw ValueError("kernel_params would be empty, and Kata then uses its build default");
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= kernel_params.size(); ++i) {
    const char c = i < kernel_params.size() ? kernel_params[i] : ' ';
    if (c == '"') quoted = !quoted;
    if (c != ' ' || quoted) {
      if (std::isspace(static_cast<unsigned char>(c)) && c != ' ' && !quoted)
        throw ValueError(
            "kernel_params hold a whitespace other than a space, which Kata's "
            "KernelParamFields does not split on");
      continue;
    }
    const std::string tok = kernel_params.substr(start, i - start);
    start = i + 1;
    if (tok.empty())
      throw ValueError("kernel_params hold two spaces in a row or an edge space, which Kata drops");
    if (tok.front() == '=')
      throw ValueError("kernel parameter '" + tok + "' has no key: Kata refuses it");
    if (tok.back() == '=' && tok.find('=') == tok.size() - 1)
      throw ValueError("kernel parameter '" + tok + "': Kata writes it back without its '='");
  }
  if (quoted) throw ValueError("kernel_params have an unclosed '\"'");
}

}  // namespace mkguest::attest
