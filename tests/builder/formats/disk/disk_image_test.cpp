// GPT / MBR disk images checked with util-linux sfdisk/fdisk and gdisk's
// sgdisk (Debian 12: fdisk 2.38.1, gdisk 1.0.9), and the partitions checked
// with veritysetup verify.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>

#include "base/file.h"
#include "builder/formats/disk/disk_image.h"
#include "tests/verity_test_util.h"
#include "verity/verity_file.h"

using namespace mkguest;
using namespace mkguest::test;

namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

struct Built {
  verity::VerityParams params;
  verity::VerityGeometry geometry;
  Bytes root;
};

Built build_pair(const TempDir& t) {
  Built b;
  write_file(t / "data.img", pattern_data(300 * 4096, 11));
  b.params.data_blocks = 300;
  b.params.salt = verity::derive_salt("disk", {}, 32);
  b.params.superblock = false;
  b.geometry = verity::plan_verity(b.params);
  b.root = verity::format_files(t / "data.img", t / "hash.img", b.geometry).root_hash;
  return b;
}

// Copies a partition out of the disk image.
void extract(const std::filesystem::path& disk, const PlacedPartition& p, std::uint64_t size,
             const std::filesystem::path& out) {
  Bytes all = read_file(disk);
  REQUIRE(p.offset() + size <= all.size());
  write_file(out, std::span<const std::uint8_t>(all).subspan(p.offset(), size));
}

}  // namespace

TEST_CASE("disk image: GPT verity pair passes sgdisk -v and sfdisk --dump", "[verity]") {
  if (!have_tool("sfdisk") || !have_tool("sgdisk") || !have_tool("veritysetup")) {
    test::skip_or_fail(
        "sfdisk, sgdisk or veritysetup missing (scripts/install-deps --test installs fdisk, gdisk, "
        "cryptsetup-bin)");
    return;
  }
  TempDir t;
  Built b = build_pair(t);
  DiskLayout l = plan_verity_disk(PartitionTable::kGpt, b.geometry.data_bytes(),
                                  b.geometry.output_size, b.root, "x86-64", "seed");
  write_disk_image(t / "disk.img", l, {t / "data.img", t / "hash.img"});

  RunResult v = run({"sgdisk", "-v", (t / "disk.img").string()});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("No problems found") != std::string::npos);

  RunResult d = run({"sfdisk", "--dump", (t / "disk.img").string()});
  INFO(d.out << d.err);
  REQUIRE(d.exit_code == 0);
  CHECK(d.out.find("label: gpt") != std::string::npos);
  CHECK(d.out.find("label-id: " + upper(format_guid(l.disk_guid))) != std::string::npos);
  const std::string data_uuid = upper(format_guid(verity_data_partuuid(b.root)));
  const std::string hash_uuid = upper(format_guid(verity_hash_partuuid(b.root)));
  CHECK(data_uuid == upper(to_hex(b.root).substr(0, 8)) + "-" + upper(to_hex(b.root).substr(8, 4)) +
                         "-" + upper(to_hex(b.root).substr(12, 4)) + "-" +
                         upper(to_hex(b.root).substr(16, 4)) + "-" +
                         upper(to_hex(b.root).substr(20, 12)));
  CHECK(d.out.find("start=        2048, size=        2400, "
                   "type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=" +
                   data_uuid + ", name=\"root-x86-64\"") != std::string::npos);
  CHECK(d.out.find("type=2C7357ED-EBD2-46D9-AEC1-23D437EC2BF5, uuid=" + hash_uuid +
                   ", name=\"root-x86-64-verity\"") != std::string::npos);

  // The partitions hold the data and the tree: veritysetup verifies them.
  extract(t / "disk.img", l.partitions[0], b.geometry.data_bytes(), t / "p1");
  extract(t / "disk.img", l.partitions[1], l.partitions[1].lbas * 512, t / "p2");
  CHECK(veritysetup_verify(t / "p1", t / "p2", to_hex(b.root), b.params) == 0);

  // Same inputs, same bytes; another seed changes only the disk GUID.
  write_disk_image(t / "again.img", l, {t / "data.img", t / "hash.img"});
  CHECK(read_file(t / "again.img") == read_file(t / "disk.img"));
  DiskLayout other = plan_verity_disk(PartitionTable::kGpt, b.geometry.data_bytes(),
                                      b.geometry.output_size, b.root, "x86-64", "seed2");
  CHECK(other.disk_guid != l.disk_guid);
}

TEST_CASE("disk image: MBR verity pair as Kata lays it out", "[verity]") {
  if (!have_tool("sfdisk") || !have_tool("fdisk")) {
    test::skip_or_fail("sfdisk or fdisk missing (scripts/install-deps --test installs fdisk)");
    return;
  }
  TempDir t;
  Built b = build_pair(t);
  DiskLayout l = plan_verity_disk(PartitionTable::kMbr, b.geometry.data_bytes(),
                                  b.geometry.output_size, b.root, "x86-64", "seed");
  write_disk_image(t / "disk.img", l, {t / "data.img", t / "hash.img"});
  RunResult d = run({"sfdisk", "--dump", (t / "disk.img").string()});
  INFO(d.out << d.err);
  REQUIRE(d.exit_code == 0);
  char sig[16];
  std::snprintf(sig, sizeof sig, "0x%08x", l.mbr_signature);
  CHECK(d.out.find("label: dos") != std::string::npos);
  CHECK(d.out.find(std::string("label-id: ") + sig) != std::string::npos);
  CHECK(d.out.find("1 : start=        2048, size=        2400, type=83, bootable") !=
        std::string::npos);
  CHECK(d.out.find("2 : start=        6144, size=          32, type=83") != std::string::npos);
  RunResult f = run({"fdisk", "-l", (t / "disk.img").string()});
  CHECK(f.exit_code == 0);
  CHECK(f.err.find("warning") == std::string::npos);
  extract(t / "disk.img", l.partitions[1], b.geometry.output_size, t / "p2");
  CHECK(read_file(t / "p2") == read_file(t / "hash.img"));
}
