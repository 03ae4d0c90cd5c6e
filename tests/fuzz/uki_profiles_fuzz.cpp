// Fuzz target: multi-profile UKIs (builder/formats/uki/sections.h, spec:
// ukify 257 --join-profile and the UAPI "Multi-Profile UKIs" rules) and
// their PCR predictions (builder/measure/uki_pcrs.h). Input: a PE image; the
// first byte's low bit picks whether .osrel is imported. The image is read as
// a --join-profile PE, then as a UKI whose every profile is viewed and
// measured. Any input must give a result or throw a mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/error.h"
#include "builder/formats/pe/image.h"
#include "builder/formats/uki/sections.h"
#include "builder/measure/uki_pcrs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> image(data, size);
  try {
    const auto joined = mkguest::profile_pe_sections(image, "fuzz.efi", size && (data[0] & 1));
    if (joined.empty() || joined[0].name != ".profile") __builtin_trap();
  } catch (const mkguest::Error&) {
  }
  try {
    const mkguest::pe::PeImage p = mkguest::pe::parse_pe_image(image, "fuzz.efi");
    std::vector<mkguest::UkiSectionInput> all;
    for (const auto& s : p.sections) all.push_back({s.name, mkguest::pe::section_data(image, s)});
    const std::size_t n = mkguest::profile_count(all);
    for (std::size_t i = 0; i < n; ++i)
      if (mkguest::profile_view(all, i).size() > all.size()) __builtin_trap();
    const auto pcrs = mkguest::predict_uki_pcrs(image, "fuzz.efi", false);
    if (pcrs.contains("pcr11-profiles") && pcrs["pcr11-profiles"].size() != n) __builtin_trap();
  } catch (const mkguest::Error&) {
  }
  return 0;
}
