// A small GPT / MBR disk-image writer for `layout: partitioned` (a verity data
// partition and its hash partition), with nothing random in it.
//
// GPT (UEFI 2.10 §5.3): LBA 0 protective MBR (one 0xEE entry), LBA 1 header
// ("EFI PART", rev 1.0, 92 bytes, CRC32s), LBA 2-33 128 entries of 128 bytes
// (type GUID, unique GUID, first/last LBA, attributes, UTF-16LE name), the
// partitions at 1 MiB boundaries, then the backup entries and header in the
// last 33 LBAs. GUIDs are given in text order and stored mixed-endian (first
// three fields little-endian). MBR: disk signature at 0x1B8, four 16-byte
// entries at 0x1BE, 0x55AA at 0x1FE; partitions at 1 MiB boundaries.
// For verity, systemd pairs the partitions by PARTUUID: data = the first 128
// bits of the root hash, hash = the last 128 bits, bytes in order
// (systemd dissect-image.c); the disk GUID / MBR signature come from a seed.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/digest.h"

namespace mkguest {

using Guid = std::array<std::uint8_t, 16>;  // text order

enum class PartitionTable { kGpt, kMbr };

struct PartitionSpec {
  std::string name;  // GPT name (ASCII, at most 36 characters)
  Guid type{};       // GPT partition type
  Guid uuid{};       // GPT unique partition GUID (PARTUUID)
  std::uint8_t mbr_type = 0x83;
  bool bootable = false;   // MBR active flag (Kata's image_builder sets it on p1)
  std::uint64_t size = 0;  // content bytes; the partition is rounded up to 512
};

struct PlacedPartition {
  PartitionSpec spec;
  std::uint64_t first_lba = 0;
  std::uint64_t lbas = 0;
  std::uint64_t offset() const { return first_lba * 512; }
};

struct DiskLayout {
  PartitionTable table = PartitionTable::kGpt;
  std::vector<PlacedPartition> partitions;
  std::uint64_t total_lbas = 0;
  Guid disk_guid{};
  std::uint32_t mbr_signature = 0;
  std::uint64_t size() const { return total_lbas * 512; }
};

// Places the partitions at 1 MiB boundaries and sizes the disk (ending on a
// 1 MiB boundary, with room for the GPT backup).
DiskLayout plan_disk(PartitionTable table, std::vector<PartitionSpec> partitions,
                     const Guid& disk_guid, std::uint32_t mbr_signature);

// Bytes [0, 34 · 512) for GPT (protective MBR, header, entries) or [0, 512) for MBR.
Bytes disk_head(const DiskLayout& layout);
// GPT: the backup entries and header, the last 33 LBAs. MBR: empty.
Bytes disk_tail(const DiskLayout& layout);

// Writes the disk image from empty: head, each partition's content copied
// from its file (zero-padded to the partition size), tail.
void write_disk_image(const std::filesystem::path& out, const DiskLayout& layout,
                      const std::vector<std::filesystem::path>& contents);

// GUID text form, lower case.
std::string format_guid(const Guid& g);
Guid parse_guid(std::string_view text);  // throws ValueError on bad text
// Stored form (first three fields little-endian).
std::array<std::uint8_t, 16> guid_on_disk(const Guid& g);

// systemd's pairing: first / last 128 bits of the root hash.
Guid verity_data_partuuid(std::span<const std::uint8_t> root_hash);
Guid verity_hash_partuuid(std::span<const std::uint8_t> root_hash);
// Discoverable Partitions Specification types for "x86-64", "arm64", "s390x".
Guid gpt_root_type(std::string_view arch);
Guid gpt_root_verity_type(std::string_view arch);

// Disk GUID (RFC 4122 v4 bits) and MBR signature from a seed:
// SHA-256("mkguest disk id" ‖ 0x00 ‖ be64(|seed|) ‖ seed ‖ be64(|context|) ‖ context),
// GUID = bytes 0..15, signature = le32 of bytes 16..19.
Guid derive_disk_guid(std::string_view seed, std::span<const std::uint8_t> context);
std::uint32_t derive_mbr_signature(std::string_view seed, std::span<const std::uint8_t> context);

// The verity pair: p1 = data, p2 = hash. GPT: the discoverable types for
// `arch`, names "root-<arch>" / "root-<arch>-verity", PARTUUIDs from the root
// hash. MBR: type 0x83 for both, p1 active (Kata's layout). Disk GUID and MBR
// signature derived from `seed` with the root hash as context.
DiskLayout plan_verity_disk(PartitionTable table, std::uint64_t data_bytes,
                            std::uint64_t hash_bytes, std::span<const std::uint8_t> root_hash,
                            std::string_view arch, std::string_view seed);

}  // namespace mkguest
