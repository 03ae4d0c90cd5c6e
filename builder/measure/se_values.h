// The expected IBM SE attestation values of a built image, as the manifest's
// measurements.se and `mkguest se build --json` carry them (docs/se.md):
// PLD, ALD, TLD and the header tag (Trustee's se.tag), boot_hdr_tags (the
// 208 bytes PLD||ALD||TLD||tag that Trustee sends as image_hdr_tags, base64),
// image_phkh per host key, NEP, PCF, SCF and the component table.
#pragma once

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "builder/formats/se/image.h"

namespace mkguest::se {

nlohmann::json values_json(const BuiltImage& img);

}  // namespace mkguest::se
