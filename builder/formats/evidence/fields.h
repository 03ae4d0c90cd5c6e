// Field readers shared by the evidence parsers (SNP report, TDX quote and
// TDREPORT): a byte range copied out of the input, and a reserved range that
// must be zero. Both go through ByteReader, so a range past the end is an
// error at its absolute offset.
#pragma once

#include <cstddef>

#include "base/byte_reader.h"
#include "base/encoding.h"

namespace mkguest::evidence {

// The `len` bytes at `off`.
Bytes copy(const ByteReader& r, std::size_t off, std::size_t len);

// [off, off+len) must be zero; the error names the first non-zero byte's
// offset and `what`.
void must_be_zero(const ByteReader& r, std::size_t off, std::size_t len, const char* what);

}  // namespace mkguest::evidence
