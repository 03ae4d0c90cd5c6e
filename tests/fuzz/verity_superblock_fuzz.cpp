// Fuzz target: the strict verity superblock parser, plus the dm-mod.create
// table parser on the same bytes read as text. Accepted superblocks must
// re-encode to the same 512 bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "base/error.h"
#include "verity/cmdline.h"
#include "verity/superblock.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mkguest;
  try {
    verity::VerityParams p = verity::parse_superblock(ByteReader(std::span(data, size), "fuzz"));
    Bytes again = verity::encode_superblock(p);
    if (std::memcmp(again.data(), data, again.size()) != 0) std::abort();
  } catch (const Error&) {
  }
  try {
    verity::DmVerityTable t =
        verity::parse_dm_mod_create(std::string_view(reinterpret_cast<const char*>(data), size));
    (void)verity::render_dm_mod_create(t);
  } catch (const Error&) {
  }
  return 0;
}
