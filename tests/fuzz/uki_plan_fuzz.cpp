// Fuzz target: the whole UKI plan and emit on a fuzzed stub and fuzzed
// section payloads. Input: [u8 n][u32 LE stub size][stub][payloads]; the
// bytes after the stub are split into n % 5 payloads named .linux, .sbat,
// .osrel, .cmdline, .initrd (in that order). Any input must plan and write,
// or throw a mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/error.h"
#include "base/sink.h"
#include "builder/formats/uki/writer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 5) return 0;
  const std::size_t n = data[0] % 5;
  std::size_t stub_size = data[1] | data[2] << 8 | data[3] << 16 | std::size_t{data[4]} << 24;
  std::span<const std::uint8_t> rest(data + 5, size - 5);
  if (stub_size > rest.size()) stub_size = rest.size();
  const auto stub = rest.first(stub_size);
  rest = rest.subspan(stub_size);
  static const char* const kNames[] = {".linux", ".sbat", ".osrel", ".cmdline", ".initrd"};
  std::vector<mkguest::UkiSectionInput> sections;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t len = i + 1 == n ? rest.size() : rest.size() / (n - i);
    sections.push_back({kNames[i], rest.first(len)});
    rest = rest.subspan(len);
  }
  try {
    mkguest::UkiOptions opt;
    opt.grow_headers = (data[0] & 0x80) == 0;
    const mkguest::UkiPlan plan = mkguest::plan_uki(stub, "fuzz.stub", sections, opt);
    mkguest::MemorySink out;
    mkguest::write_uki(plan, out);
    if (out.bytes().size() != plan.size) __builtin_trap();
  } catch (const mkguest::Error&) {
  }
  return 0;
}
