// Fuzz target: strict base64 decoding (builder/manifest/json_util.h) round-trips:
// whatever decodes re-encodes to the same text, and encoding any bytes decodes back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "builder/manifest/json_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  mkguest::Bytes out;
  if (mkguest::base64_decode(text, &out) && mkguest::base64_encode(out) != text) std::abort();
  std::string enc = mkguest::base64_encode(std::span(data, size));
  if (!mkguest::base64_decode(enc, &out) || out != mkguest::Bytes(data, data + size)) std::abort();
  return 0;
}
