#include "firmware/ovmf_table.h"

namespace mkguest {

namespace {
constexpr std::size_t kResetArea = 32;
constexpr std::size_t kEntryHeader = 18;  // u16 length + GUID
}  // namespace

OvmfTable OvmfTable::parse(const ByteReader& image) {
  OvmfTable t;
  t.source_ = image.source();
  if (image.size() < kResetArea + kEntryHeader) return t;
  std::size_t footer = image.size() - kResetArea - kEntryHeader;
  if (Guid::from_bytes(image.bytes(footer + 2, 16)) != Guid::parse(ovmf_guid::kFooter)) return t;
  t.found_ = true;
  std::size_t total = image.le16(footer);
  if (total < kEntryHeader) {
    image.fail(footer, "OVMF footer table length " + std::to_string(total) +
                           " is shorter than its own 18-byte footer");
  }
  std::size_t table_len = total - kEntryHeader;
  if (table_len > footer) {
    image.fail(footer, "OVMF footer table length " + std::to_string(total) +
                           " runs before the start of the file");
  }
  std::size_t start = footer - table_len;
  std::size_t end = footer;  // entries end here, walking backwards
  while (end - start >= kEntryHeader) {
    std::size_t hdr = end - kEntryHeader;
    std::size_t len = image.le16(hdr);
    if (len < kEntryHeader) {
      image.fail(hdr, "OVMF table entry length " + std::to_string(len) + " is shorter than 18");
    }
    if (len > end - start) {
      image.fail(hdr, "OVMF table entry length " + std::to_string(len) +
                          " runs past the start of the table at " +
                          hex_offset(image.absolute(start)));
    }
    OvmfTableEntry e;
    e.guid = Guid::from_bytes(image.bytes(hdr + 2, 16));
    std::size_t data_len = len - kEntryHeader;
    e.data = image.bytes(hdr - data_len, data_len);
    e.offset = image.absolute(hdr - data_len);
    t.entries_.push_back(e);
    end -= len;
  }
  return t;
}

const OvmfTableEntry* OvmfTable::find(const Guid& g) const {
  for (const auto& e : entries_) {
    if (e.guid == g) return &e;
  }
  return nullptr;
}

std::uint32_t OvmfTable::u32(const OvmfTableEntry& e, std::size_t at,
                             const std::string& what) const {
  ByteReader r(e.data, source_, e.offset);
  if (!r.has(at, 4)) {
    r.fail(0, "OVMF table entry " + e.guid.str() + " (" + what + ") has " +
                  std::to_string(e.data.size()) + " bytes of data, too few");
  }
  return r.le32(at);
}

}  // namespace mkguest
