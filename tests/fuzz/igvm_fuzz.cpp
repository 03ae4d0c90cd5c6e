// Fuzz target: the strict IGVM reader (builder/formats/igvm) and both
// measurements over whatever parsed (builder/measure/igvm), with and without
// the igvmmeasure options. Any input must parse or throw a mkguest Error; a
// file that parses, written again by the writer, must parse again and give
// the same measurements (abort otherwise).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "base/error.h"
#include "builder/formats/igvm/reader.h"
#include "builder/formats/igvm/writer.h"
#include "builder/measure/igvm/measure.h"

namespace {

// The SNP (both zero-page modes) and TDX digests, empty where not defined.
std::vector<mkguest::Bytes> digests(const mkguest::igvm::File& f) {
  std::vector<mkguest::Bytes> out;
  for (bool zero : {false, true}) {
    try {
      out.push_back(mkguest::igvm::measure_snp(f, {zero, !zero}, "fuzz.igvm").digest);
    } catch (const mkguest::Error&) {
      out.emplace_back();
    }
  }
  try {
    out.push_back(mkguest::igvm::measure_tdx(f, "fuzz.igvm").digest);
  } catch (const mkguest::Error&) {
    out.emplace_back();
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> b(data, size);
  try {
    const auto f = mkguest::igvm::parse_igvm(b, "fuzz.igvm");
    const auto want = digests(f);
    const auto again =
        mkguest::igvm::write_igvm(f.revision, f.architecture, mkguest::igvm::headers_of(f));
    const auto g = mkguest::igvm::parse_igvm(again, "again.igvm");
    if (digests(g) != want) std::abort();
  } catch (const mkguest::Error&) {
  }
  return 0;
}
