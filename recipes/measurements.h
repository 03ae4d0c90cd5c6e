// The `measurements` section: which platform measurements the manifest
// predicts. Each platform has its own sub-section.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "recipes/node.h"

namespace mkguest::recipe {

// measurements.snp: the launch digest matrix (one entry per combination).
// measurements.snp.id_block: an SEV-SNP ID block and ID auth structure for
// each launch digest (SNP_LAUNCH_FINISH), signed with two P-384 keys.
struct SnpIdBlockSpec {
  bool present = false;
  std::filesystem::path id_key, author_key;  // PEM private keys, EC P-384
  std::string id_key_display, author_key_display;
  std::string family_id = std::string(32, '0');  // 16 bytes, lower-case hex
  std::string image_id = std::string(32, '0');
  std::uint32_t guest_svn = 0;
  Mark mark;
};

struct SnpSpec {
  bool present = false;
  std::filesystem::path firmware;
  std::string firmware_display;
  std::vector<std::uint32_t> vcpus = {1};
  std::vector<std::string> vcpu_types;       // names from the vCPU table
  std::vector<std::uint32_t> vcpu_sigs;      // or explicit signatures
  std::vector<std::string> vmms = {"QEMU"};  // QEMU, ec2, gce
  std::vector<std::uint64_t> guest_features = {0x1};
  std::string kernel_hashes = "auto";  // auto, true, false
  // Guest policy (SNP ABI, the 64-bit POLICY of SNP_LAUNCH_START).
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  bool smt_allowed = true;
  bool migrate_ma = false;
  bool debug = false;
  bool single_socket = false;
  SnpIdBlockSpec id_block;
  Mark mark;
};

// measurements.tdx: MRTD (both page orders) and RTMR0-2 of a TD booting the
// build's UKI (outputs.uki) or, without one, its kernel, initrd and cmdline.
struct TdxSpec {
  bool present = false;
  std::filesystem::path firmware;
  std::string firmware_display;
  std::string profile;                 // a shipped host profile name
  std::filesystem::path profile_file;  // or a YAML file
  std::string profile_display;
  std::uint64_t ram_mib = 2048;
  std::filesystem::path acpi_dir;  // the host's fw_cfg ACPI blobs (for RTMR0), optional
  std::string acpi_display;
  // "auto": the profile's edk2 must measure the kernel into RTMR 1, else the
  // build is refused; "false": accept MRTD and RTMRs that bind no kernel.
  std::string kernel_events = "auto";
  Mark kernel_events_mark;
  Mark mark;
  // TDATTRIBUTES and XFAM as the TD report holds them (8 bytes each, hex of the
  // little-endian bytes): chosen by the VMM, not derivable from the image, so
  // pinned by the recipe when a verifier should compare them (docs/corim.md).
  std::string td_attributes, xfam;  // empty: not pinned
};

// `measurements.tpm`: options of the vTPM predictions (docs/pcr.md).
struct TpmSpec {
  bool present = false;
  // Guest RAM sizes (MiB) for which to predict PCR 4 of a direct boot through
  // QEMU -kernel/-initrd and OVMF (QEMU edits the kernel's setup header, and
  // the initrd's address depends on the RAM size).
  std::vector<std::uint64_t> direct_ram_mib;
};

struct MeasurementsSpec {
  SnpSpec snp;
  TdxSpec tdx;
  TpmSpec tpm;
};

}  // namespace mkguest::recipe
