// `mkguest inspect` for IBM SE images and bare headers (hdr.bin): the header
// fields (pvimg info's names), the IPIB's components, PLD/ALD/TLD/NEP
// recomputed from the image, and with --hdr-key or --host-key the key slot,
// the header tag, the secret part and the decrypted components.
#include "builder/cli/inspect_se.h"

#include <iostream>

#include <nlohmann/json.hpp>
#include <optional>
#include "base/byte_reader.h"
#include "base/encoding.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/cli/commands.h"
#include "builder/formats/se/image.h"
#include "builder/formats/se/reader.h"
#include "builder/measure/se_values.h"

namespace mkguest::cli {
namespace {

std::string hex16(std::uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

bool looks_like_se(std::span<const std::uint8_t> b) {
  const ByteReader r(b, "input");
  if (!r.has(0, 8)) return false;
  const std::uint64_t first = r.be64(0);
  return first == se::kMagic || first == (0x0008000000000000ull | se::kPswMask | se::kStage3aEntry);
}

void inspect_se(const std::string& file, const std::string& hdr_key_file,
                const std::string& host_key_file, bool json) {
  MappedFile f(file);
  const auto data = f.bytes();
  const bool bare = data.size() >= 8 && ByteReader(data, file).be64(0) == se::kMagic;
  std::optional<se::Image> img;
  se::Header h;
  if (bare) {
    h = se::parse_header(data, file);
  } else {
    img = se::parse_image(data, file);
    h = img->header;
  }
  bool ok = true;
  nlohmann::json j;
  j["format"] = bare ? "SE header" : "SE image";
  j["magic_hex"] = "49424d5365634578";
  j["version"] = hex_u64(h.version);
  j["sehs"] = h.phs;
  j["offset"] = hex_u64(h.offset);
  j["iv_hex"] = to_hex(h.iv);
  j["nks"] = h.nks;
  j["sea"] = h.sea;
  j["nep"] = h.nep;
  j["pcf_hex"] = hex_u64(h.pcf);
  j["cust_pub_key"] = to_hex(h.customer_public);
  j["pld_hex"] = to_hex(h.pld);
  j["ald_hex"] = to_hex(h.ald);
  j["tld_hex"] = to_hex(h.tld);
  j["tag_hex"] = to_hex(h.tag);
  auto& slots = j["keyslots"] = nlohmann::json::array();
  for (const auto& s : h.slots)
    slots.push_back({{"phkh_hex", to_hex(s.phkh)},
                     {"wrpk_hex", to_hex(s.wrapped)},
                     {"kst_hex", to_hex(s.tag)}});
  if (img) {
    j["layout"] = img->pvimg ? "pvimg" : "genprotimg";
    j["ipib_offset"] = hex_u64(img->ipib_offset);
    auto& comps = j["components"] = nlohmann::json::array();
    for (const auto& c : img->components)
      comps.push_back({{"addr", hex_u64(c.addr)},
                       {"pages", c.size / se::kPage},
                       {"tweak_prefix", hex16(c.tweak_prefix)}});
    const nlohmann::json checks = {{"pld", img->pld == h.pld},
                                   {"ald", img->ald == h.ald},
                                   {"tld", img->tld == h.tld},
                                   {"nep", img->nep == h.nep}};
    j["recomputed_match"] = checks;
    for (const auto& [k, v] : checks.items()) ok = ok && v.get<bool>();
  }
  if (!hdr_key_file.empty() || !host_key_file.empty()) {
    Bytes hk;
    if (!hdr_key_file.empty()) {
      hk = read_file(hdr_key_file);
      if (hk.size() != 32) throw file_error(hdr_key_file, "a header key is exactly 32 bytes");
    } else {
      const ossl::Pkey k = se::load_p521_private_pem(read_file(host_key_file), host_key_file);
      hk = se::unwrap_header_key(h, k.get(), file);
      j["key_slot_opened"] = true;
    }
    const se::Secret s = se::open_header(h, hk, file);
    OPENSSL_cleanse(hk.data(), hk.size());
    j["tag_verifies"] = true;
    j["psw"] = {{"mask", hex_u64(s.psw_mask)}, {"addr", hex_u64(s.psw_addr)}};
    j["scf_hex"] = hex_u64(s.scf);
    j["noi"] = s.noi;
    if (img) {
      auto& comps = j["components"];
      for (std::size_t i = 0; i < img->components.size(); ++i) {
        const Bytes plain = se::decrypt_component(*img, data, s, i);
        comps[i]["plaintext_sha256"] = to_hex(digest(HashAlg::kSha256, plain));
        if (img->components[i].addr == s.psw_addr) {
          comps[i]["stage3b"] = true;
          if (const auto a = se::find_stage3b_args(*img, plain)) {
            nlohmann::json blobs = nlohmann::json::array();
            for (int k = 0; k < 3; ++k)
              blobs.push_back({{"addr", hex_u64(a->addr[k])}, {"size", a->size[k]}});
            j["stage3b_args"] = {
                {"kernel", blobs[0]},
                {"cmdline", blobs[1]},
                {"initrd", blobs[2]},
                {"psw", {{"mask", hex_u64(a->psw_mask)}, {"addr", hex_u64(a->psw_addr)}}}};
          }
        }
      }
    }
  }
  if (json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << file << ": " << j["format"].get<std::string>() << " at "
              << j["offset"].get<std::string>() << ", version 0x100, " << h.phs << " bytes, "
              << h.nks << " key slot(s), " << h.nep << " encrypted pages, pcf " << hex_u64(h.pcf)
              << "\n";
    std::cout << "  PLD " << to_hex(h.pld) << "\n  ALD " << to_hex(h.ald) << "\n  TLD "
              << to_hex(h.tld) << "\n  tag " << to_hex(h.tag) << "\n";
    for (const auto& s : h.slots)
      std::cout << "  key slot for host key hash " << to_hex(s.phkh) << "\n";
    if (img) {
      for (const auto& c : j["components"])
        std::cout << "  component at " << c["addr"].get<std::string>() << ", " << c["pages"]
                  << " pages, tweak prefix " << c["tweak_prefix"].get<std::string>() << "\n";
      for (const auto& [k, v] : j["recomputed_match"].items())
        std::cout << "  " << k
                  << " recomputed from the image: " << (v.get<bool>() ? "matches" : "DIFFERS")
                  << "\n";
    }
    if (j.contains("tag_verifies"))
      std::cout << "  header tag verifies; PSW " << j["psw"]["addr"].get<std::string>() << ", scf "
                << j["scf_hex"].get<std::string>() << "\n";
    if (j.contains("stage3b_args"))
      std::cout << "  stage3b args: " << j["stage3b_args"].dump() << "\n";
  }
  if (!ok) set_exit_code(static_cast<int>(ExitCode::kMismatch));
}

}  // namespace mkguest::cli
