// Kernel command-line renderings of a verity tree (spec docs/specs/verity-rootfs.md §2):
//  - Kata's kernel_verity_params:
//      root_hash=<hex>,salt=<hex|->,data_blocks=<n>,data_block_size=<n>,hash_block_size=<n>
//  - dm-init: dm-mod.create="<name>,<uuid>,<minor>,<flags>,<table>" root=/dev/dm-0 with the
//    verity table "0 <sectors> verity <v> <data> <hash> <dbs> <hbs> <n> <hash_start> <alg>
//    <root> <salt|-> [<#opts> <opt>...]" (Kata's runtime: name dm-verity, empty uuid and
//    minor, ro, /dev/vda1 /dev/vda2, no options)
//  - systemd: roothash=<hex> systemd.verity_root_data=<dev> systemd.verity_root_hash=<dev>
//    systemd.verity_root_options=<comma-separated options>
// Plus a strict parser of the dm-mod.create value, for round-trip checks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "verity/geometry.h"

namespace mkguest::verity {

// The verity target line and the fields around it.
struct DmVerityTable {
  std::string name = "dm-verity";
  std::string uuid;
  std::string minor;
  std::string flags = "ro";
  std::uint64_t start_sector = 0;
  std::uint64_t sectors = 0;
  std::uint32_t version = 1;
  std::string data_device;
  std::string hash_device;
  std::uint32_t data_block_size = 0;
  std::uint32_t hash_block_size = 0;
  std::uint64_t data_blocks = 0;
  std::uint64_t hash_start_block = 0;
  std::string algorithm;
  Bytes root_hash;
  Bytes salt;
  std::vector<std::string> options;  // optional args, each word counted
};

// Device names and corruption policy for the renderings.
struct CmdlineDevices {
  std::string data_device = "/dev/vda1";
  std::string hash_device = "/dev/vda2";
  // Optional verity args (dm-verity words, e.g. "panic_on_corruption",
  // "ignore_zero_blocks"); systemd gets the dashed spellings.
  std::vector<std::string> options;
};

std::string kata_verity_params(const VerityGeometry& g, std::span<const std::uint8_t> root);

DmVerityTable dm_verity_table(const VerityGeometry& g, std::span<const std::uint8_t> root,
                              const CmdlineDevices& devices);
// "0 8192 verity 1 /dev/vda1 /dev/vda2 4096 4096 1024 0 sha256 <root> <salt>"
std::string render_verity_target(const DmVerityTable& t);
// dm-mod.create="dm-verity,,,ro,<target>"
std::string render_dm_mod_create(const DmVerityTable& t);
// render_dm_mod_create(...) + " root=/dev/dm-0", as Kata's runtime emits it.
std::string render_kata_cmdline(const VerityGeometry& g, std::span<const std::uint8_t> root,
                                const CmdlineDevices& devices);

std::string render_systemd_cmdline(const VerityGeometry& g, std::span<const std::uint8_t> root,
                                   const CmdlineDevices& devices);

// Parses `dm-mod.create="..."` (or the bare value) holding one device with one
// verity target. Throws InputError (source "dm-mod.create", place = column).
DmVerityTable parse_dm_mod_create(std::string_view text);

}  // namespace mkguest::verity
