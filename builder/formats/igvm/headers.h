// Internal to the IGVM reader: the structures of each variable header type
// (microsoft/igvm igvm_defs/src/lib.rs, IGVM_VHS_*, commit e6c3ff1c) and the
// cross-header rules of igvm/src/lib.rs (validate_platform_headers,
// validate_initialization_headers, validate_directive_headers).
#pragma once

#include <cstdint>
#include <map>

#include "base/byte_reader.h"
#include "builder/formats/igvm/reader.h"

namespace mkguest::igvm {

// What one parse has seen so far: the file, the file-data start and the
// parameter areas (index -> size; whether inserted).
class HeaderContext {
 public:
  HeaderContext(const ByteReader& r, const File& f, std::uint32_t data_start)
      : r(r), f(f), data_start(data_start) {}
  const ByteReader& r;
  const File& f;
  std::uint32_t data_start;
  struct Area {
    std::uint64_t size = 0;
    bool inserted = false;
  };
  std::map<std::uint32_t, Area> areas;
};

// Reads h.body (h.type is a known type) into h's fields and checks it.
void read_header_body(HeaderContext& ctx, Header& h);

}  // namespace mkguest::igvm
