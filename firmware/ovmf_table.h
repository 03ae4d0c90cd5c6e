// The OVMF GUIDed footer table (edk2 OvmfPkg/ResetVector/Ia16/ResetVectorVtf0.asm).
//
// Layout, at the end of the firmware image:
//   [len-32, len)        reset vector area, not part of the table
//   [len-50, len-32)     footer: u16 total_len, GUID 96b582de-1fb2-45f7-baea-a366c55a082d
//   before the footer    entries, walked backwards: each ends with u16 entry_len
//                        and a GUID; its data are the entry_len - 18 bytes before them
// total_len includes the 18-byte footer. All integers little-endian.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/byte_reader.h"
#include "firmware/guid.h"

namespace mkguest {

struct OvmfTableEntry {
  Guid guid;
  std::span<const std::uint8_t> data;
  std::uint64_t offset = 0;  // absolute file offset of the data
};

class OvmfTable {
 public:
  // Parses the table strictly. An image without the footer GUID has an empty
  // table (found() is false); a malformed table is an InputError naming the
  // offset.
  static OvmfTable parse(const ByteReader& image);

  bool found() const { return found_; }
  const std::vector<OvmfTableEntry>& entries() const { return entries_; }
  const OvmfTableEntry* find(const Guid& g) const;
  // The first 4 bytes of an entry's data as u32; InputError if too short.
  std::uint32_t u32(const OvmfTableEntry& e, std::size_t at, const std::string& what) const;

 private:
  bool found_ = false;
  std::string source_;
  std::vector<OvmfTableEntry> entries_;  // in file order, last entry first
};

namespace ovmf_guid {
inline const char* const kFooter = "96b582de-1fb2-45f7-baea-a366c55a082d";
inline const char* const kSevHashTable = "7255371f-3a3b-4b04-927b-1da6efa8d454";
inline const char* const kSevEsResetBlock = "00f771de-1a7e-4fcb-890e-68c77e2fb44e";
inline const char* const kSevMetadata = "dc886566-984a-4798-a75e-5585a7bf67cc";
inline const char* const kSevSecretBlock = "4c2eb361-7d9b-4cc3-8081-127c90d3d294";
inline const char* const kTdxMetadata = "e47a6535-984a-4798-865e-4685a7bf8ec2";
inline const char* const kSvsmInfo = "a789a612-0597-4c4b-a49f-cbb1fe9d1ddd";
}  // namespace ovmf_guid

}  // namespace mkguest
