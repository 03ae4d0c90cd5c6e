// The manifest's record of a UKI; see uki_record.h.
#include "builder/measure/uki_record.h"

#include "base/digest.h"
#include "base/encoding.h"
#include "builder/formats/pe/authenticode.h"

namespace mkguest {

nlohmann::json uki_section_record(std::span<const std::uint8_t> image, const pe::PeImage& p) {
  nlohmann::json secs = nlohmann::json::array();
  for (const auto& s : p.sections)
    secs.push_back({{"name", s.name},
                    {"offset", s.raw_pointer},
                    {"size", s.virtual_size},
                    {"virtual_address", s.virtual_address},
                    {"sha256", to_hex(digest(HashAlg::kSha256, pe::section_data(image, s)))}});
  return secs;
}

nlohmann::json uki_authenticode_record(std::span<const std::uint8_t> image,
                                       const std::string& name) {
  return {{"sha256", to_hex(pe::authenticode_digest(image, name, HashAlg::kSha256))},
          {"sha384", to_hex(pe::authenticode_digest(image, name, HashAlg::kSha384))}};
}

}  // namespace mkguest
