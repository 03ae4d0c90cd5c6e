// Trustee RVPS sample message, kbs-client script and SE policy snippet; see
// trustee_export.h. Names and operators: trustee
// attestation-service/src/ear_token/ear_default_policy_cpu.rego.
#include "builder/attest/trustee.h"

#include <algorithm>
#include <cctype>

#include "base/error.h"

namespace mkguest::attest {

namespace {

bool valid_id_part(const std::string& s, bool allow_slash) {
  if (s.empty()) return false;
  if (s.front() == '/' || s.back() == '/') return false;
  return std::all_of(s.begin(), s.end(), [&](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '+' ||
           (allow_slash && c == '/');
  });
}

class Builder {
 public:
  Builder(const TrusteeOptions& o, std::string source) : opts_(o), source_(std::move(source)) {}

  [[noreturn]] void bad(const std::string& where, const std::string& what) const {
    throw file_error(source_, "measurements." + where + ": " + what);
  }

  // A list of hex digests of `bytes` bytes each (0: any even length).
  json hex_list(const json& v, const std::string& where, std::size_t bytes) const {
    auto items = collect_strings(v);
    if (items.empty()) bad(where, "no digest found");
    for (const auto& s : items) {
      if (!is_hex(s)) bad(where, "'" + s + "' is not hex");
      if (bytes && s.size() != 2 * bytes)
        bad(where, "'" + s + "' is not " + std::to_string(bytes) + " bytes");
    }
    return json(items);
  }
  json hex_scalar(const json& v, const std::string& where, std::size_t bytes) const {
    json l = hex_list(v, where, bytes);
    if (l.size() != 1)
      bad(where, "has " + std::to_string(l.size()) +
                     " values; the default policy compares one scalar (==)");
    return l[0];
  }

  // Default-policy name (empty: none) + namespaced id.
  void add(const std::string& platform, const std::string& flat, const std::string& name,
           const json& value) {
    if (!flat.empty()) out_[flat] = value;
    out_[rvps_id(opts_, platform, name)] = value;
  }

  json out_ = json::object();
  const TrusteeOptions& opts_;
  std::string source_;
};

void add_snp(Builder& b, const json& snp) {
  const json* digests = nullptr;
  for (const char* k : {"launch_digests", "launch_measurements", "measurements"})
    if ((digests = find(snp, {k}))) break;
  if (!digests) b.bad("snp", "no launch_digests");
  json list = json::array();
  if (!digests->is_array()) b.bad("snp.launch_digests", "is not a list");
  // A digest without the SEV hashes table binds the firmware only: the
  // default policy would accept any kernel with it.
  bool unbound = false;
  if (const json* k = find(snp, {"covers", "kernel"}); k && k->is_boolean() && !k->get<bool>())
    unbound = true;
  for (const auto& e : *digests)
    if (const json* h = e.is_object() ? find(e, {"kernel_hashes"}) : nullptr;
        h && h->is_boolean() && !h->get<bool>())
      unbound = true;
  if (unbound && !b.opts_.allow_unbound_kernel)
    b.bad("snp",
          "the launch digest binds no kernel (kernel_hashes false: the firmware has no "
          "SNP_KERNEL_HASHES section), so Trustee would accept any kernel with it; not "
          "exported (use a firmware with kernel hashes, or --allow-unbound-kernel)");
  for (const auto& e : *digests) {
    const json* d = &e;
    if (e.is_object()) {
      d = find(e, {"digest"});
      if (!d) d = find(e, {"measurement"});
      if (!d) b.bad("snp.launch_digests", "an entry has no digest");
    }
    for (const auto& s : b.hex_list(*d, "snp.launch_digests", 48))
      if (std::find(list.begin(), list.end(), s) == list.end()) list.push_back(s);
  }
  b.add("snp", "snp_launch_measurement", "measurement", list);

  // The guest policy: an object of fields, or the 64-bit value (number or "0x..").
  const json* pol = find(snp, {"policy"});
  if (!pol) return;
  std::int64_t abi_major = 0, abi_minor = 0;
  bool smt = false, single_socket = false;
  if (pol->is_object()) {
    auto num = [&](const char* k) -> std::int64_t {
      const json* v = find(*pol, {k});
      if (!v || !v->is_number_integer()) b.bad(std::string("snp.policy.") + k, "not an integer");
      return v->get<std::int64_t>();
    };
    auto flag = [&](const char* k) -> bool {
      const json* v = find(*pol, {k});
      if (!v || !v->is_boolean()) b.bad(std::string("snp.policy.") + k, "not a boolean");
      return v->get<bool>();
    };
    if (const json* raw = find(*pol, {"value"}); raw && !find(*pol, {"abi_major"})) {
      pol = raw;  // {"value": "0x30000", ...}
    } else {
      abi_major = num("abi_major");
      abi_minor = num("abi_minor");
      smt = flag("smt_allowed");
      single_socket = flag("single_socket");
    }
  }
  if (!pol->is_object()) {
    std::uint64_t v = 0;
    if (pol->is_number_unsigned() || pol->is_number_integer()) {
      v = pol->get<std::uint64_t>();
    } else if (pol->is_string()) {
      std::string s = pol->get<std::string>();
      try {
        std::size_t used = 0;
        v = std::stoull(s, &used, 0);
        if (used != s.size()) throw std::invalid_argument(s);
      } catch (const std::exception&) {
        b.bad("snp.policy", "'" + s + "' is not a number");
      }
    } else {
      b.bad("snp.policy", "is neither an object nor a number");
    }
    // SEV-SNP ABI spec, GUEST_POLICY: ABI_MINOR 7:0, ABI_MAJOR 15:8, SMT 16, SINGLE_SOCKET 20.
    abi_minor = static_cast<std::int64_t>(v & 0xff);
    abi_major = static_cast<std::int64_t>((v >> 8) & 0xff);
    smt = (v >> 16) & 1;
    single_socket = (v >> 20) & 1;
  }
  b.add("snp", "snp_guest_abi_major", "guest_abi_major", abi_major);
  b.add("snp", "snp_guest_abi_minor", "guest_abi_minor", abi_minor);
  b.add("snp", "snp_smt_allowed", "smt_allowed", smt);
  b.add("snp", "snp_single_socket", "single_socket", single_socket);
}

void add_tdx(Builder& b, const json& tdx) {
  const json* mr_td = find(tdx, {"mr_td"});
  if (!mr_td) mr_td = find(tdx, {"mrtd"});
  if (mr_td) b.add("tdx", "mr_td", "mr_td", b.hex_list(*mr_td, "tdx.mr_td", 48));
  for (const char* r : {"rtmr_1", "rtmr_2"})
    if (const json* v = find(tdx, {r}))
      b.add("tdx", r, r, b.hex_list(*v, std::string("tdx.") + r, 48));
  // Not checked by the default policy; published under the namespaced id only,
  // and only when it is complete (without the host's ACPI tables it is not).
  const json* complete = find(tdx, {"rtmr_0_complete"});
  const bool rtmr0_ok = !complete || !complete->is_boolean() || complete->get<bool>();
  if (const json* v = find(tdx, {"rtmr_0"}); v && rtmr0_ok)
    b.add("tdx", "", "rtmr_0", b.hex_list(*v, "tdx.rtmr_0", 48));
  // Flat, or under "trustee" as `measure tdx --json` and measurements.tdx write them.
  for (const char* e : {"tdvfkernel", "tdvfkernelparams"})
    if (const json* v = find(tdx, {e}) ? find(tdx, {e}) : find(tdx, {"trustee", e}))
      b.add("tdx", e, e, b.hex_scalar(*v, std::string("tdx.") + e, 48));
  if (const json* v = find(tdx, {"xfam"}))
    b.add("tdx", "xfam", "xfam", b.hex_list(*v, "tdx.xfam", 8));
}

void add_tpm(Builder& b, const json& tpm) {
  if (!tpm.is_object()) b.bad("tpm", "is not an object");
  for (const auto& [key, value] : tpm.items()) {
    if (key.rfind("pcr", 0) != 0 || key.size() < 4 ||
        !std::all_of(key.begin() + 3, key.end(), [](unsigned char c) { return std::isdigit(c); }))
      continue;
    // The SHA-256 bank is the one Trustee's TPM verifiers report.
    const json* bank = value.is_object() ? find(value, {"sha256"}) : &value;
    if (!bank) continue;
    // PCR 11 per boot phase ([{phase, value}], measurements.tpm): the register
    // holds one of these values, depending on when the guest is attested.
    json values = json::array();
    if (bank->is_array())
      for (const auto& e : *bank)
        if (e.is_object() && e.contains("value")) values.push_back(e["value"]);
    json list = b.hex_list(values.empty() ? *bank : values, "tpm." + key + ".sha256", 32);
    b.add("tpm", "tpm_" + key, key, list);
    if (key == "pcr11") {  // the Azure vTPM verifiers' names for the same PCR
      b.out_["snp_pcr11"] = list;
      b.out_["tdx_pcr11"] = list;
    }
  }
}

void add_se(Builder& b, const json& se) {
  if (const json* tag = find(se, {"tag"})) b.add("se", "", "tag", b.hex_scalar(*tag, "se.tag", 16));
  if (const json* phkh = find(se, {"image_phkh"}))
    b.add("se", "", "image_phkh", b.hex_list(*phkh, "se.image_phkh", 32));
}

// Init-data (docs/kata.md §6): Trustee checks HOST_DATA, MRCONFIGID and vTPM
// PCR 8 itself, against the digest of the init-data TOML the guest sends with
// its evidence (attestation-service parse_init_data, verifier regularize_data
// and tpm verify_init_data); the default policy reads no reference value for
// them. They are published under namespaced ids only, named as the
// verifiers' claims (`init_data`: hex of HOST_DATA / MRCONFIGID; the TPM
// verifier's PCR claims), as lists for a custom policy's `in`.
void add_initdata(Builder& b, const json& initdata, const std::string& source) {
  auto hex = [&](const char* key, std::size_t bytes) -> const json* {
    const json* v = find(initdata, {key});
    if (v && (!v->is_string() || !is_hex(v->get<std::string>()) ||
              v->get<std::string>().size() != 2 * bytes))
      throw file_error(source, std::string("initdata.") + key + " is not " + std::to_string(bytes) +
                                   "-byte hex");
    return v;
  };
  if (const json* v = hex("snp_host_data", 32)) b.add("snp", "", "init_data", json::array({*v}));
  if (const json* v = hex("tdx_mrconfigid", 48)) b.add("tdx", "", "init_data", json::array({*v}));
  if (const json* v = hex("tpm_pcr8", 32)) b.add("tpm", "", "pcr8", json::array({*v}));
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string rvps_id(const TrusteeOptions& o, const std::string& platform, const std::string& name) {
  return "rvps:///" + o.ns + "/" + o.image + "/" + platform + "/" + name + ":" + o.version;
}

json trustee_reference_values(const json& manifest, const TrusteeOptions& options,
                              const std::string& source) {
  TrusteeOptions o = options;
  if (o.image.empty()) o.image = find_string(manifest, {"recipe", "name"});
  if (o.version.empty()) o.version = find_string(manifest, {"recipe", "version"});
  if (!valid_id_part(o.ns, true))
    throw ValueError("namespace '" + o.ns + "' must be [A-Za-z0-9._+-] parts separated by '/'");
  if (!valid_id_part(o.image, false))
    throw ValueError("image name '" + o.image +
                     "' must be non-empty [A-Za-z0-9._+-] (set recipe.name or --image)");
  if (!valid_id_part(o.version, false))
    throw ValueError("image version '" + o.version +
                     "' must be non-empty [A-Za-z0-9._+-] (set recipe.version or --image-version)");
  Builder b(o, source);
  const json* m = find(manifest, {"measurements"});
  if (m && !m->is_object()) b.bad("", "measurements is not an object");
  if (m) {
    if (const json* v = find(*m, {"snp"})) add_snp(b, *v);
    if (const json* v = find(*m, {"tdx"})) add_tdx(b, *v);
    if (const json* v = find(*m, {"tpm"})) add_tpm(b, *v);
    if (const json* v = find(*m, {"se"})) add_se(b, *v);
  }
  if (const json* v = find(manifest, {"initdata"}); v && v->is_object())
    add_initdata(b, *v, source);
  if (b.out_.empty())
    throw file_error(source, "the manifest has no measurements to export (no snp, tdx, tpm or se)");
  return b.out_;
}

json trustee_message(const json& reference_values) {
  return json{{"version", "0.1.0"},
              {"type", "sample"},
              {"payload", base64_encode(canonical_json(reference_values))}};
}

std::string kbs_client_script(const json& values, const std::string& title, int* skipped) {
  std::string s =
      "#!/bin/sh\n"
      "# Trustee reference values for " +
      title +
      ", generated by mkguest.\n"
      "# Registers them through the KBS admin API with kbs-client (sample extractor).\n"
      "# Usage: KBS_URL=http://kbs:8080 KBS_ADMIN_KEY=admin.key sh THIS_SCRIPT\n"
      "set -eu\n"
      ": \"${KBS_URL:?set KBS_URL to the KBS address}\"\n"
      ": \"${KBS_ADMIN_KEY:?set KBS_ADMIN_KEY to the admin private key file}\"\n"
      "KBS_CLIENT=\"${KBS_CLIENT:-kbs-client}\"\n"
      "rv() {\n"
      "  \"$KBS_CLIENT\" --url \"$KBS_URL\" config --auth-private-key \"$KBS_ADMIN_KEY\" \\\n"
      "    set-sample-reference-value \"$@\"\n"
      "}\n";
  std::string not_expressible;
  int n_skipped = 0;
  for (const auto& [name, value] : values.items()) {
    const json* v = &value;
    std::string flags;
    if (value.is_array()) {
      if (value.size() != 1) {
        not_expressible += "#   " + name + " (" + std::to_string(value.size()) + " values)\n";
        ++n_skipped;
        continue;
      }
      v = &value[0];
    } else {
      flags = " --as-single-value";
    }
    std::string text;
    if (v->is_boolean()) {
      text = v->get<bool>() ? "true" : "false";
      flags = " --as-bool" + flags;
    } else if (v->is_number_integer()) {
      text = std::to_string(v->get<std::int64_t>());
      flags = " --as-integer" + flags;
    } else if (v->is_string()) {
      text = v->get<std::string>();
    } else {
      not_expressible += "#   " + name + " (not a string, integer or boolean)\n";
      ++n_skipped;
      continue;
    }
    s += "rv " + shell_quote(name) + " " + shell_quote(text) + flags + "\n";
  }
  if (!not_expressible.empty())
    s += "# kbs-client registers one-element lists only; register these lists with the RVPS\n"
         "# message instead (rvps-tool register, or POST /kbs/v0/reference-value):\n" +
         not_expressible;
  if (skipped) *skipped = n_skipped;
  return s;
}

std::string se_policy_snippet(const json& manifest, const std::string& title) {
  const json* se = find(manifest, {"measurements", "se"});
  if (!se) return {};
  std::string tag = find_string(*se, {"tag"});
  std::transform(tag.begin(), tag.end(), tag.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (tag.size() != 32 || !is_hex(tag))
    throw file_error("manifest", "measurements.se.tag is not a 16-byte hex value");
  std::vector<std::string> phkh;
  if (const json* p = find(*se, {"image_phkh"})) phkh = collect_strings(*p);
  for (const auto& h : phkh)
    if (h.size() != 64 || !is_hex(h))
      throw file_error("manifest",
                       "measurements.se.image_phkh has a value that is not 32-byte hex");
  std::string set;
  for (std::size_t i = 0; i < phkh.size(); ++i)
    set += (i ? ",\n\t\t\"" : "\n\t\t\"") + phkh[i] + "\"";
  set += "\n\t";
  std::string s =
      "# IBM Secure Execution image pin for " + title +
      ", generated by mkguest.\n"
      "# Trustee's default policy trusts the SE verifier; this rule also pins the image\n"
      "# header (se.tag) and the host keys it was built for (se.image_phkh).\n"
      "# Merge it into the attestation policy, e.g. by requiring se_image_pinned for SE.\n"
      "package policy\n\n"
      "import rego.v1\n\n"
      "default se_image_pinned := false\n\n"
      "se_image_pinned if {\n"
      "\tinput.se.version == \"256\"\n"
      "\tinput.se.tag == \"" +
      tag + "\"\n";
  if (!phkh.empty()) s += "\tinput.se.image_phkh in {" + set + "}\n";
  s += "}\n";
  return s;
}

}  // namespace mkguest::attest
