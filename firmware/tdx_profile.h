// Host profiles for TDX prediction: named YAML data mapping an edk2 and a QEMU
// version range to behaviour switches (docs/specs/tdx.md §5.2, §6, §8). The profiles the
// project ships live in firmware/profiles/*.yaml and are compiled in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "firmware/tdvf.h"

namespace mkguest::tdx {

struct BootOption {
  std::uint16_t number = 0;
  std::uint32_t attributes = 0;
  std::string description, fv_guid, file_guid;
};

struct FwCfgItem {
  std::string name;
  std::vector<std::uint8_t> data;
};

struct Profile {
  std::string name, description;
  std::string edk2_min, edk2_max, qemu_min, qemu_max;  // inclusive ranges, informational
  bool cc_measurement = true;                          // firmware measures into RTMRs at all
  bool separator_in_rtmr1 = true;  // edk2 >= 202411; before: second separator in RTMR0
  bool kernel_patched = false;     // firmware hashes QEMU's header-edited kernel
  bool initrd_prefix = false;      // edk2 >= 202508: "initrd=initrd " prefix
  bool shim_prefix = false;        // QEMU -shim: "kernel " prefix
  PageOrder page_order = PageOrder::kSinglePass;
  std::vector<std::uint16_t> boot_order;
  std::vector<BootOption> boot_options;
  std::vector<FwCfgItem> fw_cfg_items;  // edk2 >= 202505 measures these into RTMR0
};

// Parses one profile document; `source` names it in errors (file:line:col).
Profile parse_profile(const std::string& yaml_text, const std::string& source);
// The shipped profiles, by name.
std::vector<std::string> builtin_profile_names();
Profile builtin_profile(const std::string& name);  // ValueError if unknown
const std::string& default_profile_name();

}  // namespace mkguest::tdx
