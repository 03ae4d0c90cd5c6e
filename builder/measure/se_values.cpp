#include "builder/measure/se_values.h"

#include "builder/manifest/json_util.h"

namespace mkguest::se {

nlohmann::json values_json(const BuiltImage& img) {
  nlohmann::json j;
  j["version"] = 256;
  j["layout"] = img.layout == Layout::kPvimg ? "pvimg" : "genprotimg";
  j["ipib_offset"] = hex_u64(img.ipib_offset);
  j["phs"] = img.header.size();
  j["nks"] = img.phkh.size();
  j["nep"] = img.nep;
  j["pcf"] = hex_u64(img.pcf);
  j["scf"] = hex_u64(img.scf);
  j["pld"] = to_hex(img.pld);
  j["ald"] = to_hex(img.ald);
  j["tld"] = to_hex(img.tld);
  j["tag"] = to_hex(img.tag);
  Bytes tags = img.pld;
  tags.insert(tags.end(), img.ald.begin(), img.ald.end());
  tags.insert(tags.end(), img.tld.begin(), img.tld.end());
  tags.insert(tags.end(), img.tag.begin(), img.tag.end());
  j["boot_hdr_tags"] = base64_encode(tags);
  j["image_phkh"] = nlohmann::json::array();
  for (const auto& p : img.phkh) j["image_phkh"].push_back(to_hex(p));
  j["hdr_sha256"] = to_hex(digest(HashAlg::kSha256, img.header));
  j["header_offset"] = hex_u64(img.header_offset);
  auto& comps = j["components"] = nlohmann::json::array();
  for (const auto& c : img.components) {
    comps.push_back({{"type", comp_name(c.type)},
                     {"addr", hex_u64(c.addr)},
                     {"pages", c.size / kPage},
                     {"size", c.orig_size},
                     {"tweak_prefix", to_hex(Bytes(c.tweak.begin(), c.tweak.begin() + 8))},
                     {"sha256", to_hex(c.sha256)}});
  }
  return j;
}

}  // namespace mkguest::se
