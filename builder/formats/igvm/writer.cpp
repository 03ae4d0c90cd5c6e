// The IGVM writer: plan (header offsets, file-data offsets), emit, then the
// CRC-32 of what was written (see writer.h and format.h).
#include "builder/formats/igvm/writer.h"

#include "base/byte_writer.h"
#include "base/error.h"

namespace mkguest::igvm {
namespace {

std::size_t align8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

// Where a header type keeps its u32 file_offset field, if it has one.
std::optional<std::size_t> file_offset_field(std::uint32_t type) {
  switch (type) {
    case kVhtPageData:
    case kVhtParameterArea:
    case kVhtVpContext:
      return 12;
    case kVhtCorimDocument:
    case kVhtCorimSignature:
      return 4;
    default:
      return std::nullopt;
  }
}

}  // namespace

Bytes write_igvm(std::uint32_t revision, Architecture arch,
                 const std::vector<WriterHeader>& headers) {
  if (revision != kVersion1 && revision != kVersion2)
    throw ValueError("IGVM revision " + std::to_string(revision) + " (1 or 2)");
  const std::size_t fixed = revision == kVersion1 ? kFixedHeaderSizeV1 : kFixedHeaderSizeV2;
  const std::size_t var_offset = align8(fixed);
  // Plan: the variable header's size, then each file-data block's offset.
  std::size_t var_size = 0;
  for (const auto& h : headers) var_size += 8 + align8(h.body.size());
  std::size_t data_size = 0;
  for (const auto& h : headers)
    for (const auto& [field, data] : h.refs) data_size += data.size();
  const std::uint64_t total = std::uint64_t{var_offset} + var_size + data_size;
  if (total > 0xffffffffu) throw ValueError("an IGVM file is at most 4 GiB");

  Bytes out(var_offset, 0);
  std::size_t next_data = var_offset + var_size;
  for (const auto& h : headers) {
    Bytes body = h.body;
    for (const auto& [field, data] : h.refs) {
      if (field > body.size() || body.size() - field < 4)
        throw InternalError("IGVM file_offset field outside the header body");
      if (data.empty()) continue;
      store_le32(body.data() + field, static_cast<std::uint32_t>(next_data));
      next_data += data.size();
    }
    ByteWriter w;
    w.le32(h.type);
    w.le32(static_cast<std::uint32_t>(body.size()));
    w.append(body);
    out.insert(out.end(), w.bytes().begin(), w.bytes().end());
    out.resize(align8(out.size()), 0);
  }
  for (const auto& h : headers)
    for (const auto& [field, data] : h.refs) out.insert(out.end(), data.begin(), data.end());

  store_le32(out.data() + kFhMagic, kMagic);
  store_le32(out.data() + kFhVersion, revision);
  store_le32(out.data() + kFhVarOffset, static_cast<std::uint32_t>(var_offset));
  store_le32(out.data() + kFhVarSize, static_cast<std::uint32_t>(var_size));
  store_le32(out.data() + kFhTotalSize, static_cast<std::uint32_t>(out.size()));
  if (revision == kVersion2) {
    store_le32(out.data() + kFhArchitecture, static_cast<std::uint32_t>(arch));
    store_le32(out.data() + kFhPageSize, kPageSize);
  }
  store_le32(out.data() + kFhChecksum,
             header_checksum(out, fixed, static_cast<std::uint32_t>(var_offset),
                             static_cast<std::uint32_t>(var_size)));
  return out;
}

std::vector<WriterHeader> headers_of(const File& f) {
  std::vector<WriterHeader> out;
  for (const auto* list : {&f.platforms, &f.initializations, &f.directives}) {
    for (const Header& h : *list) {
      WriterHeader w;
      w.type = h.type | (h.optional ? kOptionalBit : 0);
      w.body.assign(h.body.begin(), h.body.end());
      if (const auto field = h.known ? file_offset_field(h.type) : std::nullopt) {
        store_le32(w.body.data() + *field, 0);
        w.refs.emplace_back(*field, Bytes(h.data.begin(), h.data.end()));
      }
      out.push_back(std::move(w));
    }
  }
  return out;
}

}  // namespace mkguest::igvm
