// CoRIM and CoMID maps of a manifest; layout and profile choices in corim.h
// and docs/corim.md.
#include "builder/attest/corim.h"

#include <algorithm>
#include <cctype>

#include "base/error.h"
#include "builder/attest/cbor.h"

namespace mkguest::attest {

namespace c = cbor;

namespace {

// Named Information Hash Algorithm Registry (RFC 6920 §9.4) ids of digests.
constexpr std::int64_t kNiSha256 = 1, kNiSha384 = 7, kNiSha512 = 8;
constexpr std::uint64_t kTagOid = 111, kTagBytes = 560, kTagEpoch = 1;
// SEV-SNP profile class-id, attestation by chip: OID 1.3.6.1.4.1.3704.3.1 (DER body).
const Bytes kSnpClassOid = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x9c, 0x78, 0x03, 0x01};
// SEV-SNP profile mkeys.
constexpr std::int64_t kSnpPolicy = 2, kSnpMeasurement = 641, kSnpHostData = 642,
                       kSnpIdKeyDigest = 643;

using Entries = std::vector<std::pair<c::Item, c::Item>>;

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}
  [[noreturn]] void bad(const std::string& where, const std::string& what) const {
    throw file_error(source_, "measurements." + where + ": " + what);
  }
  // Every hex string of `v` (a string, list or object of them), each `len` bytes.
  std::vector<Bytes> hex_values(const json& v, const std::string& where, std::size_t len) const {
    std::vector<Bytes> out;
    for (const auto& s : collect_strings(v)) {
      Bytes b;
      if (!is_hex(s) || !from_hex(s, &b)) bad(where, "'" + s + "' is not hex");
      if (b.size() != len) bad(where, "'" + s + "' is not " + std::to_string(len) + " bytes");
      out.push_back(std::move(b));
    }
    if (out.empty()) bad(where, "no value found");
    return out;
  }

 private:
  std::string source_;
};

c::Item digests(std::int64_t alg, const std::vector<Bytes>& values) {
  std::vector<c::Item> out;
  for (const auto& v : values) out.push_back(c::array({c::integer(alg), c::bytes(v)}));
  return c::array(std::move(out));
}

c::Item measurement(c::Item mkey, Entries mval) {
  return c::map({{c::uint(0), std::move(mkey)}, {c::uint(1), c::map(std::move(mval))}});
}

c::Item class_env(Entries cls) { return c::map({{c::uint(0), c::map(std::move(cls))}}); }

c::Item vendor_model(const char* vendor, const char* model) {
  return class_env({{c::uint(1), c::text(vendor)}, {c::uint(2), c::text(model)}});
}

std::uint64_t snp_policy_value(const Reader& r, const json& pol) {
  const json* v = pol.is_object() ? find(pol, {"value"}) : &pol;
  if (!v) {  // the fields: SEV-SNP ABI spec, GUEST_POLICY (bit 17 is reserved, must be one)
    auto num = [&](const char* k, int bits) -> std::uint64_t {
      const json* f = find(pol, {k});
      if (!f) return 0;
      if (f->is_boolean()) return f->get<bool>() ? 1 : 0;
      if (!f->is_number_integer() || f->get<std::int64_t>() < 0 || f->get<std::uint64_t>() >> bits)
        r.bad(std::string("snp.policy.") + k, "is out of range");
      return f->get<std::uint64_t>();
    };
    return num("abi_minor", 8) | num("abi_major", 8) << 8 | num("smt_allowed", 1) << 16 |
           std::uint64_t{1} << 17 | num("migrate_ma", 1) << 18 | num("debug", 1) << 19 |
           num("single_socket", 1) << 20;
  }
  if (v->is_number_unsigned() || v->is_number_integer()) return v->get<std::uint64_t>();
  if (v->is_string()) {
    std::string s = v->get<std::string>();
    try {
      std::size_t used = 0;
      std::uint64_t n = std::stoull(s, &used, 0);
      if (used == s.size() && s[0] != '-') return n;
    } catch (const std::exception&) {
    }
    r.bad("snp.policy", "'" + s + "' is not a number");
  }
  r.bad("snp.policy", "is neither an object nor a number");
}

c::Item snp_triple(const Reader& r, const json& snp) {
  const json* list = find(snp, {"launch_digests"});
  if (!list || !list->is_array() || list->empty()) r.bad("snp.launch_digests", "is not a list");
  std::vector<Bytes> ds;
  for (const auto& e : *list) {
    const json* d = e.is_object() ? find(e, {"digest"}) : &e;
    if (!d) r.bad("snp.launch_digests", "an entry has no digest");
    for (auto& b : r.hex_values(*d, "snp.launch_digests", 48))
      if (std::find(ds.begin(), ds.end(), b) == ds.end()) ds.push_back(std::move(b));
  }
  std::vector<c::Item> ms;
  if (const json* pol = find(snp, {"policy"})) {
    std::uint64_t v = snp_policy_value(r, *pol);
    Bytes le(8);
    for (int i = 0; i < 8; ++i) le[i] = static_cast<std::uint8_t>(v >> (8 * i));
    ms.push_back(
        measurement(c::integer(kSnpPolicy), {{c::uint(4), c::tag(kTagBytes, c::bytes(le))}}));
  }
  ms.push_back(measurement(c::integer(kSnpMeasurement), {{c::uint(2), digests(kNiSha384, ds)}}));
  if (const json* h = find(snp, {"host_data"}))
    ms.push_back(
        measurement(c::integer(kSnpHostData),
                    {{c::uint(2), digests(kNiSha256, r.hex_values(*h, "snp.host_data", 32))}}));
  if (const json* k = find(snp, {"id_key_digest"}))
    ms.push_back(
        measurement(c::integer(kSnpIdKeyDigest),
                    {{c::uint(2), digests(kNiSha384, r.hex_values(*k, "snp.id_key_digest", 48))}}));
  return c::array({class_env({{c::uint(0), c::tag(kTagOid, c::bytes(kSnpClassOid))}}),
                   c::array(std::move(ms))});
}

// draft-cds-rats-intel-corim-profile (commit b164507): tee.attributes is -82
// in measurement-values-map, or "the non-negative tee.attributes" as mkey.
constexpr std::uint64_t kTeeAttributes = 82;

c::Item tdx_triple(const Reader& r, const json& tdx) {
  std::vector<c::Item> ms;
  auto add = [&](const char* key, const char* mkey, std::size_t len) {
    if (const json* v = find(tdx, {key}))
      ms.push_back(measurement(
          c::text(mkey),
          {{c::uint(2), digests(kNiSha384, r.hex_values(*v, std::string("tdx.") + key, len))}}));
  };
  add("mr_td", "mrtd", 48);
  add("rtmr_1", "rtmr1", 48);
  add("rtmr_2", "rtmr2", 48);
  add("mrconfigid", "mrconfigid", 48);  // the init-data binding (docs/kata.md)
  if (const json* v = find(tdx, {"xfam"}))
    ms.push_back(measurement(
        c::text("xfam"),
        {{c::uint(4), c::tag(kTagBytes, c::bytes(r.hex_values(*v, "tdx.xfam", 8).at(0)))}}));
  // TDATTRIBUTES under the Intel profile's tee.attributes in its mkey form
  // (the code point 82 as mkey, the 8 bytes as raw-value); recipe-pinned.
  if (const json* v = find(tdx, {"td_attributes"}))
    ms.push_back(measurement(
        c::uint(kTeeAttributes),
        {{c::uint(4),
          c::tag(kTagBytes, c::bytes(r.hex_values(*v, "tdx.td_attributes", 8).at(0)))}}));
  if (ms.empty()) r.bad("tdx", "has no mr_td, rtmr_1 or rtmr_2");
  return c::array({vendor_model("Intel Corporation", "TDX"), c::array(std::move(ms))});
}

const char* pcr_component(int pcr) {
  switch (pcr) {
    case 4:
      return "UKI";  // the boot application's PE image
    case 9:
      return "kernel initrd, cmdline";  // the initrd and LoadOptions
    case 11:
      return "UKI sections";  // systemd-stub: .linux, .osrel, .cmdline...
    default:
      return "kernel cmdline";  // 12: command line, credentials, sysexts
  }
}

c::Item tpm_triple(const Reader& r, const json& tpm) {
  std::vector<c::Item> ms;
  for (int pcr : {4, 9, 11, 12}) {
    const json* p = find(tpm, {"pcr" + std::to_string(pcr)});
    if (!p) continue;
    if (!p->is_object()) r.bad("tpm.pcr" + std::to_string(pcr), "is not an object of banks");
    std::vector<c::Item> all;
    for (auto [bank, alg, len] :
         {std::tuple{"sha256", kNiSha256, 32}, std::tuple{"sha384", kNiSha384, 48},
          std::tuple{"sha512", kNiSha512, 64}}) {
      const json* b = find(*p, {bank});
      if (!b) continue;
      // PCR 11 per boot phase: [{phase, value}]; PCR 4 per boot path: {path: value}.
      json values = json::array();
      if (b->is_array())
        for (const auto& e : *b)
          values.push_back(e.is_object() && e.contains("value") ? e["value"] : e);
      std::string where = "tpm.pcr" + std::to_string(pcr) + "." + bank;
      for (auto& v : r.hex_values(values.empty() ? *b : values, where, len))
        all.push_back(c::array({c::integer(alg), c::bytes(v)}));
    }
    if (all.empty()) continue;
    ms.push_back(measurement(c::uint(pcr), {{c::uint(2), c::array(std::move(all))},
                                            {c::uint(11), c::text(pcr_component(pcr))}}));
  }
  if (ms.empty()) r.bad("tpm", "has no PCR 4, 9, 11 or 12");
  return c::array({vendor_model("TCG", "vTPM"), c::array(std::move(ms))});
}

c::Item se_triple(const Reader& r, const json& se) {
  std::vector<c::Item> ms;
  const json* tag = find(se, {"tag"});
  if (!tag) r.bad("se", "has no tag");
  ms.push_back(measurement(
      c::text("tag"),
      {{c::uint(4), c::tag(kTagBytes, c::bytes(r.hex_values(*tag, "se.tag", 16).at(0)))}}));
  if (const json* p = find(se, {"image_phkh"}))
    ms.push_back(
        measurement(c::text("image_phkh"),
                    {{c::uint(2), digests(kNiSha256, r.hex_values(*p, "se.image_phkh", 32))}}));
  return c::array({vendor_model("IBM", "Secure Execution"), c::array(std::move(ms))});
}

c::Item comid(const std::string& tag_id, const std::string& creator, c::Item triple) {
  c::Item m = c::map({
      {c::uint(1), c::map({{c::uint(0), c::text(tag_id)}})},
      {c::uint(2), c::array({c::map({{c::uint(0), c::text(creator)},
                                     {c::uint(2), c::array({c::uint(0), c::uint(1)})}})})},
      {c::uint(4), c::map({{c::uint(0), c::array({std::move(triple)})}})},
  });
  return c::tag(kCborTagComid, c::bytes(c::encode(m)));
}

}  // namespace

CorimValidity corim_validity(const json& manifest, const CorimOptions& o) {
  if (o.valid_days <= 0 || o.valid_days > 36500)
    throw ValueError("CoRIM validity of " + std::to_string(o.valid_days) +
                     " days: give 1 to 36500 days");
  CorimValidity v;
  v.not_before = manifest_epoch(manifest);
  v.not_after = v.not_before + o.valid_days * 86400;
  return v;
}

Bytes corim_unsigned(const json& manifest, const CorimOptions& o, const std::string& source) {
  Reader r(source);
  std::string id = o.id;
  if (id.empty())
    id = find_string(manifest, {"recipe", "name"}, "image") + "-" +
         find_string(manifest, {"recipe", "version"}, "0");
  std::vector<c::Item> tags;
  const json* m = find(manifest, {"measurements"});
  if (m && !m->is_object()) r.bad("", "is not an object");
  if (m) {
    if (const json* v = find(*m, {"snp"}))
      tags.push_back(comid(id + "/snp", o.creator, snp_triple(r, *v)));
    if (const json* v = find(*m, {"tdx"}))
      tags.push_back(comid(id + "/tdx", o.creator, tdx_triple(r, *v)));
    if (const json* v = find(*m, {"tpm"}))
      tags.push_back(comid(id + "/tpm", o.creator, tpm_triple(r, *v)));
    if (const json* v = find(*m, {"se"}))
      tags.push_back(comid(id + "/se", o.creator, se_triple(r, *v)));
  }
  if (tags.empty())
    throw file_error(source, "the manifest has no measurements to export (no snp, tdx, tpm or se)");
  CorimValidity val = corim_validity(manifest, o);
  c::Item corim = c::map({
      {c::uint(0), c::text(id)},
      {c::uint(1), c::array(std::move(tags))},
      {c::uint(4), c::map({{c::uint(0), c::tag(kTagEpoch, c::integer(val.not_before))},
                           {c::uint(1), c::tag(kTagEpoch, c::integer(val.not_after))}})},
      {c::uint(5), c::array({c::map(
                       {{c::uint(0), c::text(o.creator)}, {c::uint(2), c::array({c::uint(1)})}})})},
  });
  return c::encode(c::tag(kCborTagCorim, std::move(corim)));
}

}  // namespace mkguest::attest
