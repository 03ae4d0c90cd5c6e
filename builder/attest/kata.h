// Kata Containers runtime configuration drop-ins for a built guest (docs/kata.md §8-§10).
//
// Format: TOML fragments of Kata's QEMU configuration, read by the Go runtime
// (kata-containers src/runtime/pkg/katautils/config.go, decodeDropIns at
// 7c6ba40c) from <configuration dir>/config.d/ and merged key by key over
// configuration-qemu-<platform>.toml. Layout of one fragment, in this order:
//   a comment header (what was measured, the guest's whole kernel cmdline),
//   [hypervisor.qemu]  kernel, image | initrd, rootfs_type, kernel_params,
//                      kernel_verity_params, firmware, default_vcpus,
//                      default_maxvcpus, default_memory, ... (only keys of the
//                      platform's template, tests/vectors/kata/config-keys.txt)
//   [agent.kata]       the agent keys that change the cmdline
//   [runtime]          static_sandbox_resource_mgmt
// The kernel cmdline the runtime really passes is a transcription of
// qemu.go kernelParameters() and what feeds it (kata_runtime_params below).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "builder/manifest/json_util.h"
#include "recipes/recipe.h"

namespace mkguest::attest {

// The recipe's `exports.kata` (recipes/README.md).
struct KataOptions {
  std::string install_dir;                      // absolute: where the outputs go on the host
  std::map<std::string, std::string> firmware;  // platform -> host path of the measured firmware
  std::optional<std::uint64_t> memory_mib;      // default: the TDX ram_mib, else 2048
  std::uint32_t vcpus = 1;                      // TDX, SE, coco-dev (SNP: each measured count)
  bool guest_selinux = false;                   // disable_guest_selinux = !guest_selinux
  std::string block_device_driver = "virtio-scsi";
  std::string rootfs_type = "erofs";  // erofs | ext4 | xfs (image boot)
  std::string machine_type = "q35";
};

// What decides the parameters Kata's Go runtime (QEMU, amd64, no debug)
// puts before `kernel_params`.
struct KataShape {
  bool confidential = true;
  bool image = true;            // a rootfs image (else an initrd)
  std::string rootfs_type;      // image: erofs | ext4 | xfs
  std::string verity_params;    // image: kernel_verity_params, "" = none
  std::uint32_t max_vcpus = 1;  // nr_cpus= of a non-confidential guest
  bool guest_selinux = false;
  std::string block_device_driver = "virtio-scsi";
  std::uint32_t cdh_api_timeout = 0;
  std::uint32_t launch_process_timeout = 6;
};

// kata-containers hypervisor.go ParseKernelVerityParams (80e3b071): the five
// fields of `kernel_verity_params`. Throws ValueError as the runtime refuses.
struct KataVerity {
  std::string root_hash, salt;
  std::uint64_t data_blocks = 0, data_block_size = 0, hash_block_size = 0;
};
std::optional<KataVerity> parse_kata_verity_params(const std::string& params);

// hypervisor.go GetKernelRootParams for a virtio-blk image (no NVDIMM, no DAX),
// each "key=value".
std::vector<std::string> kata_root_params(const std::string& rootfs_type,
                                          const std::string& verity_params);

// Every parameter the runtime writes before kernel_params, in its order.
std::vector<std::string> kata_runtime_params(const KataShape& shape);

// The same, joined with spaces, for a confidential guest with the recipe's
// `exports.kata` settings: the value of ${kata.runtime_params}.
std::string kata_runtime_params_for(const recipe::KataExportSpec& spec, bool image,
                                    const std::string& verity_params);

// Refuses kernel_params that Kata's KernelParamFields/DeserializeParams/
// SerializeParams round trip would change ("k=" loses its "=", "=v" is an
// error, tabs are not separators). Throws ValueError.
void check_kata_kernel_params(const std::string& kernel_params);

// One drop-in and what it predicts.
struct KataDropIn {
  std::string file;      // kata/configuration-qemu-<platform>[-<n>vcpus].toml
  std::string platform;  // snp | tdx | se | coco-dev
  std::uint32_t vcpus = 0;
  std::uint64_t memory_mib = 0;
  std::string kernel_params;
  std::string cmdline;  // the guest's whole cmdline ("" for SE: the image holds it)
  bool cmdline_measured = false;
  std::string text;  // the TOML
};

// The drop-ins for a manifest (its outputs, cmdline, verity and measured
// platforms). Throws ValueError when the measured shape is one Kata's runtime
// cannot launch (docs/kata.md §9).
std::vector<KataDropIn> kata_drop_ins(const json& manifest, const KataOptions& options);

}  // namespace mkguest::attest
