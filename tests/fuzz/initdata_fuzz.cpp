// Fuzz target: the init-data reader (builder/formats/initdata) must either
// return a document or throw InputError on any input; a document it accepts
// binds (builder/measure/initdata) and, rendered again from its data, reads
// back to the same data and algorithm.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "base/error.h"
#include "builder/formats/initdata/initdata.h"
#include "builder/measure/initdata.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mkguest;
  initdata::Document doc;
  try {
    doc = initdata::parse(std::span(data, size), "fuzz");
  } catch (const InputError&) {
    return 0;
  }
  const auto b = measure::initdata_binding(doc);
  if (b.snp_host_data.size() != 32 || b.tdx_mrconfigid.size() != 48) std::abort();
  const std::string text = initdata::render(doc.algorithm, doc.data);
  const auto again = initdata::parse(as_bytes(text), "rendered");
  if (again.data != doc.data || again.algorithm != doc.algorithm) std::abort();
  return 0;
}
