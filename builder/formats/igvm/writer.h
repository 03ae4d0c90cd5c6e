// The IGVM writer (layout in format.h; microsoft/igvm igvm_defs, commit
// e6c3ff1c): the fixed header, the variable headers in the order given, each
// 8-byte aligned and zero padded, then the file data of the headers in the
// same order; the checksum is the CRC-32 of the fixed and variable headers.
// The variable header starts right after the fixed header (offset 24 or 32).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "builder/formats/igvm/format.h"
#include "builder/formats/igvm/reader.h"

namespace mkguest::igvm {

struct WriterHeader {
  std::uint32_t type = 0;  // bit 31 included for an optional header
  Bytes body;              // the structure; file_offset fields are filled in
  // File data: the offset in `body` of the u32 file_offset field, and the
  // bytes it refers to (no data leaves the field 0).
  std::vector<std::pair<std::size_t, Bytes>> refs;
};

// Throws ValueError if the result would not fit the u32 sizes of the format.
Bytes write_igvm(std::uint32_t revision, Architecture arch,
                 const std::vector<WriterHeader>& headers);

// The headers of a parsed file, with their file data, ready to be written
// again (platforms, initialization headers, directives, in file order).
std::vector<WriterHeader> headers_of(const File& f);

}  // namespace mkguest::igvm
