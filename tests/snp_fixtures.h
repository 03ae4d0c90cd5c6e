// Synthetic AMD SEV firmware images and direct-boot inputs for the SNP tests,
// generated deterministically (the generator of docs/specs/snp.md §4):
// filler bytes (i*31 + 7) & 0xff, an ASEV block 4 KiB before the end listing
// the AmdSev sections, and a footer table with the reset block, the hashes
// table and the metadata offset just below the last 32 bytes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "base/byte_writer.h"
#include "base/digest.h"
#include "firmware/guid.h"
#include "tests/test_util.h"

namespace mkguest::test {

using SevSec = std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>;  // gpa, size, type

// The current AmdSev layout; `hashes_last` moves SNP_KERNEL_HASHES to the end
// of the list, as edk2 PR #6054 did.
inline std::vector<SevSec> amdsev_sections(bool hashes_last = false) {
  std::vector<SevSec> s = {{0x800000, 0x9000, 1}, {0x80a000, 0x3000, 1}, {0x80d000, 0x1000, 2},
                           {0x80e000, 0x1000, 3}, {0x80f000, 0x1000, 4}, {0x810000, 0x1000, 0x10},
                           {0x811000, 0xf000, 1}};
  if (hashes_last) std::rotate(s.begin() + 5, s.begin() + 6, s.end());
  return s;
}

inline void place(Bytes& img, std::size_t at, const Bytes& b) {
  for (std::size_t i = 0; i < b.size() && at + i < img.size(); ++i) img[at + i] = b[i];
}

inline Bytes synth_ovmf(std::size_t size, const std::vector<SevSec>& secs, bool with_meta = true,
                        std::uint32_t reset_eip = 0x80b004, std::uint32_t svsm_entry = 0) {
  Bytes img(size);
  for (std::size_t i = 0; i < size; ++i) img[i] = static_cast<std::uint8_t>((i * 31 + 7) & 0xff);
  ByteWriter meta;
  meta.append(std::string_view("ASEV"));
  meta.le32(static_cast<std::uint32_t>(16 + 12 * secs.size()));
  meta.le32(1);
  meta.le32(static_cast<std::uint32_t>(secs.size()));
  for (const auto& [gpa, sz, type] : secs) {
    meta.le32(gpa);
    meta.le32(sz);
    meta.le32(type);
  }
  place(img, size - 0x1000, meta.bytes());
  ByteWriter table;
  auto entry = [&](const Bytes& data, const char* guid) {
    table.append(data);
    table.le16(static_cast<std::uint16_t>(data.size() + 18));
    table.append(Guid::parse(guid).bytes());
  };
  entry({static_cast<std::uint8_t>(reset_eip), static_cast<std::uint8_t>(reset_eip >> 8),
         static_cast<std::uint8_t>(reset_eip >> 16), static_cast<std::uint8_t>(reset_eip >> 24)},
        "00f771de-1a7e-4fcb-890e-68c77e2fb44e");
  entry({0x00, 0x0c, 0x81, 0x00, 0x00, 0x04, 0x00, 0x00}, "7255371f-3a3b-4b04-927b-1da6efa8d454");
  if (with_meta) entry({0x00, 0x10, 0x00, 0x00}, "dc886566-984a-4798-a75e-5585a7bf67cc");
  if (svsm_entry) {
    entry(
        {static_cast<std::uint8_t>(svsm_entry), static_cast<std::uint8_t>(svsm_entry >> 8),
         static_cast<std::uint8_t>(svsm_entry >> 16), static_cast<std::uint8_t>(svsm_entry >> 24)},
        "a789a612-0597-4c4b-a49f-cbb1fe9d1ddd");
  }
  ByteWriter blob;
  blob.append(table.bytes());
  blob.le16(static_cast<std::uint16_t>(table.size() + 18));
  blob.append(Guid::parse("96b582de-1fb2-45f7-baea-a366c55a082d").bytes());
  place(img, size - 0x20 - blob.size(), blob.bytes());
  return img;
}

// kernel.bin, initrd.bin and the fixture images, written into `dir`.
inline void write_snp_fixtures(const std::filesystem::path& dir) {
  std::string k(1048576 + 123, '\0');
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<char>(i % 251);
  write_text(dir / "kernel.bin", k);
  std::string rd(300000, '\0');
  for (std::size_t i = 0; i < rd.size(); ++i) rd[i] = static_cast<char>((i * 7 + 3) & 0xff);
  write_text(dir / "initrd.bin", rd);
  auto save = [&](const char* name, const Bytes& b) {
    write_text(dir / name, std::string(b.begin(), b.end()));
  };
  save("synth_ovmf_4m.fd", synth_ovmf(4194304, amdsev_sections()));
  save("synth_ovmf_2m.fd", synth_ovmf(2097152, amdsev_sections()));
  save("synth_ovmf_new_order.fd", synth_ovmf(4194304, amdsev_sections(true)));
  // A Coconut-SVSM-like binary: its own metadata and an SVSM info entry.
  save("synth_svsm.bin", synth_ovmf(262144,
                                    {{0x7e000000, 0x1000, 2},
                                     {0x7e001000, 0x1000, 3},
                                     {0x7e002000, 0x2000, 4},
                                     {0x7e004000, 0x4000, 1}},
                                    true, 0x80b004, 0x1000));
  save("synth_ovmf_no_hashes.fd",
       synth_ovmf(2097152, {{0x800000, 0x9000, 1}, {0x80d000, 0x1000, 2}, {0x80e000, 0x1000, 3}}));
}

}  // namespace mkguest::test
