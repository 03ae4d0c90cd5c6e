// GPT / MBR disk-image writer (see disk_image.h for the layout).
#include "builder/formats/disk/disk_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/byte_writer.h"
#include "base/error.h"

namespace mkguest {

namespace {

constexpr std::uint64_t kSector = 512;
constexpr std::uint64_t kAlign = 2048;  // LBAs: 1 MiB
constexpr std::uint32_t kEntries = 128;
constexpr std::uint32_t kEntrySize = 128;
constexpr std::uint64_t kEntryLbas = kEntries * kEntrySize / kSector;  // 32

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

std::uint32_t crc32_of(std::span<const std::uint8_t> b) {
  return static_cast<std::uint32_t>(::crc32(0L, b.data(), static_cast<uInt>(b.size())));
}

// Cylinder/head/sector of an LBA for 255 heads · 63 sectors, saturated at
// 1023/254/63 as fdisk and parted write it.
void put_chs(std::uint8_t* p, std::uint64_t lba) {
  std::uint64_t c = lba / (255 * 63), h = (lba / 63) % 255, s = lba % 63 + 1;
  if (c > 1023) c = 1023, h = 254, s = 63;
  p[0] = static_cast<std::uint8_t>(h);
  p[1] = static_cast<std::uint8_t>(s | ((c >> 2) & 0xc0));
  p[2] = static_cast<std::uint8_t>(c & 0xff);
}

void put_mbr_entry(std::uint8_t* e, bool active, std::uint8_t type, std::uint64_t first,
                   std::uint64_t count) {
  e[0] = active ? 0x80 : 0;
  put_chs(e + 1, first);
  e[4] = type;
  put_chs(e + 5, first + count - 1);
  store_le32(e + 8, static_cast<std::uint32_t>(first));
  store_le32(e + 12, static_cast<std::uint32_t>(count));
}

Bytes entries_array(const DiskLayout& l) {
  Bytes a(kEntries * kEntrySize, 0);
  for (std::size_t i = 0; i < l.partitions.size(); ++i) {
    const PlacedPartition& p = l.partitions[i];
    std::uint8_t* e = a.data() + i * kEntrySize;
    auto t = guid_on_disk(p.spec.type), u = guid_on_disk(p.spec.uuid);
    std::memcpy(e, t.data(), 16);
    std::memcpy(e + 16, u.data(), 16);
    store_le64(e + 32, p.first_lba);
    store_le64(e + 40, p.first_lba + p.lbas - 1);
    store_le64(e + 48, 0);
    for (std::size_t c = 0; c < p.spec.name.size(); ++c) {
      store_le16(e + 56 + 2 * c, static_cast<std::uint8_t>(p.spec.name[c]));
    }
  }
  return a;
}

Bytes gpt_header(const DiskLayout& l, bool primary, std::uint32_t entries_crc) {
  const std::uint64_t last = l.total_lbas - 1;
  Bytes h(kSector, 0);
  std::memcpy(h.data(), "EFI PART", 8);
  store_le32(&h[8], 0x00010000);
  store_le32(&h[12], 92);
  store_le64(&h[24], primary ? 1 : last);
  store_le64(&h[32], primary ? last : 1);
  store_le64(&h[40], 2 + kEntryLbas);
  store_le64(&h[48], last - 1 - kEntryLbas);
  auto g = guid_on_disk(l.disk_guid);
  std::memcpy(&h[56], g.data(), 16);
  store_le64(&h[72], primary ? 2 : last - kEntryLbas);
  store_le32(&h[80], kEntries);
  store_le32(&h[84], kEntrySize);
  store_le32(&h[88], entries_crc);
  store_le32(&h[16], crc32_of(std::span<const std::uint8_t>(h).first(92)));
  return h;
}

Bytes derive_disk_bytes(std::string_view seed, std::span<const std::uint8_t> context) {
  std::uint8_t sep[1] = {0}, num[8];
  Hasher h(HashAlg::kSha256);
  h.update(std::string_view("mkguest disk id")).update(sep);
  store_be64(num, seed.size());
  h.update(std::span<const std::uint8_t>(num, 8)).update(seed);
  store_be64(num, context.size());
  h.update(std::span<const std::uint8_t>(num, 8)).update(context);
  return h.finish();
}

[[noreturn]] void io_fail(const std::filesystem::path& p, const char* what) {
  throw InternalError(p.string() + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

DiskLayout plan_disk(PartitionTable table, std::vector<PartitionSpec> parts, const Guid& disk_guid,
                     std::uint32_t mbr_signature) {
  if (parts.empty()) throw ValueError("a disk image needs at least one partition");
  if (table == PartitionTable::kMbr && parts.size() > 4) {
    throw ValueError("an MBR disk holds at most 4 primary partitions");
  }
  DiskLayout l;
  l.table = table;
  l.disk_guid = disk_guid;
  l.mbr_signature = mbr_signature;
  std::uint64_t lba = kAlign;
  for (auto& s : parts) {
    if (s.size == 0) throw ValueError("partition '" + s.name + "' is empty");
    if (s.name.size() > 36 || std::any_of(s.name.begin(), s.name.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e;
        })) {
      throw ValueError("partition name '" + s.name + "': at most 36 printable ASCII characters");
    }
    PlacedPartition p;
    p.first_lba = lba;
    p.lbas = align_up(s.size, kSector) / kSector;
    p.spec = std::move(s);
    lba = align_up(p.first_lba + p.lbas, kAlign);
    l.partitions.push_back(std::move(p));
  }
  // Room for the GPT backup (33 LBAs) after the last partition, ending on 1 MiB.
  const PlacedPartition& last = l.partitions.back();
  l.total_lbas = align_up(last.first_lba + last.lbas + 1 + kEntryLbas, kAlign);
  if (table == PartitionTable::kMbr && l.total_lbas > 0xffffffffull) {
    throw ValueError("an MBR disk cannot address more than 2 TiB");
  }
  return l;
}

Bytes disk_head(const DiskLayout& l) {
  Bytes mbr(kSector, 0);
  if (l.table == PartitionTable::kMbr) {
    store_le32(&mbr[0x1b8], l.mbr_signature);
    for (std::size_t i = 0; i < l.partitions.size(); ++i) {
      const auto& p = l.partitions[i];
      put_mbr_entry(&mbr[0x1be + 16 * i], p.spec.bootable, p.spec.mbr_type, p.first_lba, p.lbas);
    }
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    return mbr;
  }
  const std::uint64_t protective = std::min<std::uint64_t>(l.total_lbas - 1, 0xffffffffull);
  std::uint8_t* e = &mbr[0x1be];
  e[1] = 0x00, e[2] = 0x02, e[3] = 0x00;  // CHS 0/0/2
  e[4] = 0xee;
  put_chs(e + 5, protective);
  store_le32(e + 8, 1);
  store_le32(e + 12, static_cast<std::uint32_t>(protective));
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  Bytes entries = entries_array(l);
  ByteWriter w((2 + kEntryLbas) * kSector);
  w.append(mbr);
  w.append(gpt_header(l, true, crc32_of(entries)));
  w.append(entries);
  return w.take();
}

Bytes disk_tail(const DiskLayout& l) {
  if (l.table == PartitionTable::kMbr) return {};
  Bytes entries = entries_array(l);
  ByteWriter w((1 + kEntryLbas) * kSector);
  w.append(entries);
  w.append(gpt_header(l, false, crc32_of(entries)));
  return w.take();
}

void write_disk_image(const std::filesystem::path& out, const DiskLayout& l,
                      const std::vector<std::filesystem::path>& contents) {
  if (contents.size() != l.partitions.size()) {
    throw InternalError("disk image: one content file per partition is needed");
  }
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_fail(out, "cannot create");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fchmod(fd, 0644) != 0) io_fail(out, "cannot chmod");
  auto put = [&](std::span<const std::uint8_t> b, std::uint64_t off) {
    for (std::size_t done = 0; done < b.size();) {
      ssize_t n = ::pwrite(fd, b.data() + done, b.size() - done, static_cast<off_t>(off + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        io_fail(out, "cannot write");
      }
      done += static_cast<std::size_t>(n);
    }
  };
  if (::ftruncate(fd, static_cast<off_t>(l.size())) != 0) io_fail(out, "cannot size");
  put(disk_head(l), 0);
  Bytes buf(1 << 20);
  for (std::size_t i = 0; i < contents.size(); ++i) {
    const auto& p = l.partitions[i];
    int in = ::open(contents[i].c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
      throw file_error(contents[i].string(), std::string("cannot open: ") + std::strerror(errno));
    Closer in_closer{in};
    std::uint64_t copied = 0;
    while (copied < p.spec.size) {
      std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), p.spec.size - copied));
      ssize_t n = ::read(in, buf.data(), want);
      if (n < 0) {
        if (errno == EINTR) continue;
        io_fail(contents[i], "cannot read");
      }
      if (n == 0) throw file_error(contents[i].string(), "shorter than its partition content");
      put(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)),
          p.offset() + copied);
      copied += static_cast<std::uint64_t>(n);
    }
  }
  Bytes tail = disk_tail(l);
  put(tail, l.size() - tail.size());
}

std::string format_guid(const Guid& g) {
  std::string hex = to_hex(g);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

Guid parse_guid(std::string_view text) {
  std::string hex;
  bool ok = text.size() == 36;
  for (std::size_t i = 0; ok && i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (text[i] == '-')) ok = false;
    if (!dash) hex += text[i];
  }
  Bytes b;
  if (!ok || !from_hex(hex, &b)) throw ValueError("invalid GUID '" + std::string(text) + "'");
  Guid g;
  std::memcpy(g.data(), b.data(), 16);
  return g;
}

std::array<std::uint8_t, 16> guid_on_disk(const Guid& g) {
  std::array<std::uint8_t, 16> d = g;
  std::reverse(d.begin(), d.begin() + 4);
  std::reverse(d.begin() + 4, d.begin() + 6);
  std::reverse(d.begin() + 6, d.begin() + 8);
  return d;
}

Guid verity_data_partuuid(std::span<const std::uint8_t> root) {
  if (root.size() < 16) throw ValueError("root hash shorter than 128 bits");
  Guid g;
  std::memcpy(g.data(), root.data(), 16);
  return g;
}

Guid verity_hash_partuuid(std::span<const std::uint8_t> root) {
  if (root.size() < 16) throw ValueError("root hash shorter than 128 bits");
  Guid g;
  std::memcpy(g.data(), root.data() + root.size() - 16, 16);
  return g;
}

Guid gpt_root_type(std::string_view arch) {
  if (arch == "x86-64") return parse_guid("4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
  if (arch == "arm64") return parse_guid("b921b045-1df0-41c3-af44-4c6f280d3fae");
  if (arch == "s390x") return parse_guid("5eead9a9-fe09-4a1e-a1d7-520d00531306");
  throw ValueError("no root partition type for architecture '" + std::string(arch) + "'");
}

Guid gpt_root_verity_type(std::string_view arch) {
  if (arch == "x86-64") return parse_guid("2c7357ed-ebd2-46d9-aec1-23d437ec2bf5");
  if (arch == "arm64") return parse_guid("df3300ce-d69f-4c92-978c-9bfb0f38d820");
  if (arch == "s390x") return parse_guid("b325bfbe-c7be-4ab8-8357-139e652d2f6b");
  throw ValueError("no root verity partition type for architecture '" + std::string(arch) + "'");
}

Guid derive_disk_guid(std::string_view seed, std::span<const std::uint8_t> context) {
  Bytes d = derive_disk_bytes(seed, context);
  Guid g;
  std::memcpy(g.data(), d.data(), 16);
  g[6] = static_cast<std::uint8_t>((g[6] & 0x0f) | 0x40);
  g[8] = static_cast<std::uint8_t>((g[8] & 0x3f) | 0x80);
  return g;
}

std::uint32_t derive_mbr_signature(std::string_view seed, std::span<const std::uint8_t> context) {
  Bytes d = derive_disk_bytes(seed, context);
  return static_cast<std::uint32_t>(d[16]) | static_cast<std::uint32_t>(d[17]) << 8 |
         static_cast<std::uint32_t>(d[18]) << 16 | static_cast<std::uint32_t>(d[19]) << 24;
}

DiskLayout plan_verity_disk(PartitionTable table, std::uint64_t data_bytes,
                            std::uint64_t hash_bytes, std::span<const std::uint8_t> root_hash,
                            std::string_view arch, std::string_view seed) {
  PartitionSpec data, hash;
  data.size = data_bytes;
  hash.size = hash_bytes;
  data.bootable = true;  // as Kata's image_builder.sh (parted "set 1 boot on")
  if (table == PartitionTable::kGpt) {
    data.name = "root-" + std::string(arch);
    hash.name = data.name + "-verity";
    data.type = gpt_root_type(arch);
    hash.type = gpt_root_verity_type(arch);
    data.uuid = verity_data_partuuid(root_hash);
    hash.uuid = verity_hash_partuuid(root_hash);
  }
  return plan_disk(table, {data, hash}, derive_disk_guid(seed, root_hash),
                   derive_mbr_signature(seed, root_hash));
}

}  // namespace mkguest
