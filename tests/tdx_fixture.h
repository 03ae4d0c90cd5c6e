// Test fixtures for the TDX units: synthetic TDVF images (OVMF footer table +
// TDVF descriptor, docs/specs/tdx.md §2.1-2.2) and the pinned Debian 12 inputs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/byte_writer.h"
#include "base/digest.h"
#include "tests/test_util.h"

namespace mkguest::test::tdx {

struct SynthSection {
  std::uint32_t data_offset, raw_size;
  std::uint64_t gpa, memory_size;
  std::uint32_t type, attributes;
};

inline void put_guid(std::vector<std::uint8_t>& img, std::size_t off, const std::uint8_t (&g)[16]) {
  for (int i = 0; i < 16; ++i) img[off + i] = g[i];
}

// GUIDs in on-disk byte order.
constexpr std::uint8_t kFooterGuid[16] = {0xde, 0x82, 0xb5, 0x96, 0xb2, 0x1f, 0xf7, 0x45,
                                          0xba, 0xea, 0xa3, 0x66, 0xc5, 0x5a, 0x08, 0x2d};
constexpr std::uint8_t kTdxEntryGuid[16] = {0x35, 0x65, 0x7a, 0xe4, 0x4a, 0x98, 0x98, 0x47,
                                            0x86, 0x5e, 0x46, 0x85, 0xa7, 0xbf, 0x8e, 0xc2};
constexpr std::uint8_t kTdxMetadataGuid[16] = {0xf3, 0xf9, 0xea, 0xe9, 0x8e, 0x16, 0xd5, 0x44,
                                               0xa8, 0xeb, 0x7f, 0x4d, 0x87, 0x38, 0xf6, 0xae};

// A 64 KiB image: [0, 0x4000) CFV bytes, [0x4000, 0x8000) BFV bytes, the
// descriptor at 0xF000 (GUID at 0xEFF0), the footer table at the end. With
// legacy = true there is no table and the u32 at end - 0x20 points at the
// descriptor.
inline std::vector<std::uint8_t> synth_tdvf(const std::vector<SynthSection>& secs,
                                            bool legacy = false) {
  std::vector<std::uint8_t> img(0x10000, 0);
  for (std::size_t i = 0; i < 0x8000; ++i) img[i] = static_cast<std::uint8_t>(i * 7 + (i >> 8));
  const std::size_t desc = 0xF000;
  put_guid(img, desc - 16, kTdxMetadataGuid);
  ByteWriter d;
  d.append("TDVF");
  d.le32(static_cast<std::uint32_t>(16 + 32 * secs.size()));
  d.le32(1);
  d.le32(static_cast<std::uint32_t>(secs.size()));
  for (const auto& s : secs) {
    d.le32(s.data_offset);
    d.le32(s.raw_size);
    d.le64(s.gpa);
    d.le64(s.memory_size);
    d.le32(s.type);
    d.le32(s.attributes);
  }
  std::copy(d.bytes().begin(), d.bytes().end(), img.begin() + desc);
  const std::size_t n = img.size();
  if (legacy) {
    store_le32(img.data() + n - 0x20, desc);
    return img;
  }
  // Table: [u32 back][u16 22][TDX entry GUID] [u16 total][footer GUID] ends at n - 0x20.
  const std::size_t footer = n - 0x20 - 18;
  const std::size_t entry = footer - 22;
  store_le32(img.data() + entry, static_cast<std::uint32_t>(n - desc));
  store_le16(img.data() + entry + 4, 22);
  put_guid(img, entry + 6, kTdxEntryGuid);
  store_le16(img.data() + footer, 18 + 22);
  put_guid(img, footer + 2, kFooterGuid);
  return img;
}

inline std::vector<SynthSection> default_sections() {
  return {{0x4000, 0x4000, 0xFFFFC000, 0x4000, 0, 1},
          {0x0, 0x4000, 0xFFFF8000, 0x4000, 1, 0},
          {0, 0, 0x809000, 0x2000, 2, 0},
          {0, 0, 0x800000, 0x6000, 3, 0}};
}

// The pinned Debian 12 inputs (scripts/fetch-tdx-inputs); empty path + a
// reason when missing or different.
inline std::filesystem::path debian_input(const std::string& rel, const std::string& sha256,
                                          std::string* why) {
  const auto p = source_dir() / ".cache/debian/root" / rel;
  if (!std::filesystem::exists(p)) {
    *why = rel + " missing: run scripts/fetch-tdx-inputs (needs apt-get download)";
    return {};
  }
  if (sha256_file(p) != sha256) {
    *why = rel + " is not the pinned file (sha256 " + sha256 + "): run scripts/fetch-tdx-inputs";
    return {};
  }
  return p;
}

inline std::filesystem::path debian_ovmf(std::string* why) {
  return debian_input("ovmf/usr/share/ovmf/OVMF.fd",
                      "7b456907dd0786d415999e801a1ac4637b8ed4d7cf5378cfc6edbe5e574dd773", why);
}

inline std::filesystem::path debian_kernel(std::string* why) {
  return debian_input("linux-image-6.1.0-56-cloud-amd64/boot/vmlinuz-6.1.0-56-cloud-amd64",
                      "51349501a3d1ff83836437d2b365fd2d57f2feb8642d315e5181dec23d4c3275", why);
}

// Synthetic initrd of docs/specs/tdx.md §9: bytes 0..255 repeated 4096 times (1 MiB).
inline std::vector<std::uint8_t> synthetic_initrd() {
  std::vector<std::uint8_t> v(1 << 20);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i);
  return v;
}

}  // namespace mkguest::test::tdx
