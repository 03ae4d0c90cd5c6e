// Trustee export: the RVPS message decodes (with coreutils base64, not our
// decoder) to the manifest's values with the JSON types the default EAR policy
// needs, and the policy's rules pass on evidence a genuine guest would report.
//
// `opa` is not packaged in Debian 12, so the policy is evaluated by a Rego-free
// transcription of trustee's attestation-service/src/ear_token/
// ear_default_policy_cpu.rego (SNP, TDX and TPM sections, rule by rule), with
// Rego's semantics: `x in ref` holds only when ref is an array (or object) with
// an element JSON-equal to x; `a == b` holds only when both are defined and
// JSON-equal (no coercion: "0" != 0); an undefined reference makes the body fail.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/attest_fixture.h"
#include "tests/snp_fixtures.h"
#include "tests/tdx_fixture.h"
#include "tests/test_util.h"

namespace mkguest::test {
namespace {

using nlohmann::json;

const json* at(const json& v, std::initializer_list<const char*> path) {
  const json* cur = &v;
  for (auto k : path) {
    if (!cur->is_object() || !cur->contains(k)) return nullptr;
    cur = &(*cur)[k];
  }
  return cur;
}
// Rego `x in ref`.
bool in(const json* x, const json* ref) {
  if (!x || !ref || !(ref->is_array() || ref->is_object())) return false;
  for (const auto& e : *ref)
    if (e == *x) return true;
  return false;
}
// Rego `a == b`.
bool eq(const json* a, const json* b) { return a && b && *a == *b; }

struct Claims {
  int executables = 33, hardware = 97, configuration = 36;
};

// The policy's rules for the platform `input` carries, against data.reference = ref.
Claims evaluate(const json& input, const json& ref) {
  Claims c;
  auto R = [&](const char* k) { return at(ref, {k}); };
  if (const json* snp = at(input, {"snp"})) {
    auto I = [&](const char* k) { return at(*snp, {k}); };
    if (in(I("measurement"), R("snp_launch_measurement"))) c.executables = 3;
    if (in(I("reported_tcb_bootloader"), R("snp_bootloader")) &&
        in(I("reported_tcb_microcode"), R("snp_microcode")) &&
        in(I("reported_tcb_snp"), R("snp_snp_svn")) && in(I("reported_tcb_tee"), R("snp_tee_svn")))
      c.hardware = 2;
    json f = false;
    bool base = eq(I("policy_debug_allowed"), &f) && eq(I("policy_migrate_ma"), &f);
    if (base && eq(I("platform_smt_enabled"), R("snp_smt_enabled")) &&
        eq(I("platform_tsme_enabled"), R("snp_tsme_enabled")) &&
        eq(I("policy_abi_major"), R("snp_guest_abi_major")) &&
        eq(I("policy_abi_minor"), R("snp_guest_abi_minor")) &&
        eq(I("policy_single_socket"), R("snp_single_socket")) &&
        eq(I("policy_smt_allowed"), R("snp_smt_allowed")))
      c.configuration = 2;
    else if (base)
      c.configuration = 3;
  }
  if (const json* tdx = at(input, {"tdx"})) {
    auto body = [&](const char* k) { return at(*tdx, {"quote", "body", k}); };
    auto event_ok = [&](const char* type, const char* ref_name, bool kernel) {
      const json* logs = at(*tdx, {"uefi_event_logs"});
      if (!logs) return false;
      for (const auto& ev : *logs) {
        json type_name = type;
        if (!eq(at(ev, {"type_name"}), &type_name)) continue;
        if (kernel) {
          json file = "File(kernel)";
          if (!in(&file, at(ev, {"details", "device_paths"}))) continue;
        } else {
          json tag = "LOADED_IMAGE::LoadOptions";
          if (!eq(at(ev, {"details", "string"}), &tag)) continue;
        }
        if (const json* ds = at(ev, {"digests"}))
          for (const auto& d : *ds)
            if (eq(at(d, {"digest"}), R(ref_name))) return true;
      }
      return false;
    };
    bool rtmrs = in(body("rtmr_1"), R("rtmr_1")) && in(body("rtmr_2"), R("rtmr_2"));
    if (rtmrs && event_ok("EV_EFI_BOOT_SERVICES_APPLICATION", "tdvfkernel", true) &&
        event_ok("EV_EVENT_TAG", "tdvfkernelparams", false))
      c.executables = 3;
    else if (rtmrs)
      c.executables = 4;
    json tee = "81000000", vendor = "939a7233f79c4ca9940a0db3957f0607", up = "UpToDate", zero = "0";
    if (eq(at(*tdx, {"quote", "header", "tee_type"}), &tee) &&
        eq(at(*tdx, {"quote", "header", "vendor_id"}), &vendor) &&
        in(body("mr_seam"), R("mr_seam")) && in(body("tcb_svn"), R("tcb_svn")) &&
        in(body("mr_td"), R("mr_td")) && eq(at(*tdx, {"tcb_status"}), &up) &&
        eq(at(*tdx, {"collateral_expiration_status"}), &zero))
      c.hardware = 2;
    json f = false;
    if (eq(at(*tdx, {"td_attributes", "debug"}), &f) && in(body("xfam"), R("xfam")))
      c.configuration = 2;
  }
  if (const json* tpm = at(input, {"tpm"})) {
    c.hardware = 2;
    if (in(at(*tpm, {"pcr11"}), R("tpm_pcr11"))) c.executables = 3;
    c.configuration = 0;
  }
  return c;
}

// What a genuine guest of the fixture image reports (claims as Trustee's
// verifiers produce them), plus the platform values an operator registers.
json snp_evidence(const json& m) {
  return {{"snp",
           {{"measurement", m["measurements"]["snp"]["launch_digests"][1]["digest"]},
            {"reported_tcb_bootloader", 10},
            {"reported_tcb_microcode", 84},
            {"reported_tcb_snp", 25},
            {"reported_tcb_tee", 0},
            {"policy_debug_allowed", false},
            {"policy_migrate_ma", false},
            {"platform_smt_enabled", true},
            {"platform_tsme_enabled", false},
            {"policy_abi_major", 0},
            {"policy_abi_minor", 0},
            {"policy_single_socket", false},
            {"policy_smt_allowed", true}}}};
}
json tdx_evidence(const json& m) {
  const json& t = m["measurements"]["tdx"];
  return {
      {"tdx",
       {{"quote",
         {{"header", {{"tee_type", "81000000"}, {"vendor_id", "939a7233f79c4ca9940a0db3957f0607"}}},
          {"body",
           {{"rtmr_1", t["rtmr_1"]},
            {"rtmr_2", t["rtmr_2"]},
            {"mr_td", t["mr_td"]["two-pass"]},
            {"mr_seam", hex_of(0x99, 48)},
            {"tcb_svn", "0b"},
            {"xfam", "e702060000000000"}}}}},
        {"tcb_status", "UpToDate"},
        {"collateral_expiration_status", "0"},
        {"td_attributes", {{"debug", false}}},
        {"uefi_event_logs",
         json::array(
             {{{"type_name", "EV_EFI_BOOT_SERVICES_APPLICATION"},
               {"details", {{"device_paths", json::array({"File(kernel)"})}}},
               {"digests", json::array({{{"alg", "SHA-384"}, {"digest", t["tdvfkernel"]}}})}},
              {{"type_name", "EV_EVENT_TAG"},
               {"details", {{"string", "LOADED_IMAGE::LoadOptions"}}},
               {"digests",
                json::array({{{"alg", "SHA-384"}, {"digest", t["tdvfkernelparams"]}}})}}})}}}};
}
json tpm_evidence(const json& m) {
  return {{"tpm", {{"pcr11", m["measurements"]["tpm"]["pcr11"]["sha256"]}}}};
}
void add_operator_values(json& ref) {
  ref["snp_bootloader"] = {10};
  ref["snp_microcode"] = {84};
  ref["snp_snp_svn"] = {25};
  ref["snp_tee_svn"] = {0};
  ref["snp_smt_enabled"] = true;
  ref["snp_tsme_enabled"] = false;
  ref["mr_seam"] = {hex_of(0x99, 48)};
  ref["tcb_svn"] = {"0b"};
  ref["xfam"] = {"e702060000000000"};
}

struct Exported {
  json manifest, message, values;
};

Exported export_fixture(const TempDir& t, const std::vector<std::string>& extra = {}) {
  Exported e;
  e.manifest = make_outdir(t / "out");
  std::vector<std::string> args{"export",
                                "trustee",
                                (t / "out").string(),
                                "-o",
                                (t / "rvps-message.json").string(),
                                "--namespace",
                                "example.org/guest-images"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_mkguest(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  e.message = json::parse(read_text(t / "rvps-message.json"));
  write_text(t / "payload.b64", e.message["payload"].get<std::string>());
  auto d = run({"base64", "-d", (t / "payload.b64").string()});
  REQUIRE(d.exit_code == 0);
  e.values = json::parse(d.out);
  return e;
}

TEST_CASE("trustee message: shape, names and JSON types of the default policy", "[trustee]") {
  TempDir t;
  Exported e = export_fixture(t);
  CHECK(e.message.size() == 3);
  CHECK(e.message["version"] == "0.1.0");
  CHECK(e.message["type"] == "sample");
  const json& m = e.manifest["measurements"];
  const json& v = e.values;
  // `in` in the policy: lists.
  for (const char* k : {"snp_launch_measurement", "mr_td", "rtmr_1", "rtmr_2", "tpm_pcr11",
                        "snp_pcr11", "tdx_pcr11"}) {
    INFO(k);
    REQUIRE(v.contains(k));
    CHECK(v[k].is_array());
  }
  // `==` in the policy: typed scalars.
  CHECK(v["tdvfkernel"].is_string());
  CHECK(v["tdvfkernelparams"].is_string());
  CHECK(v["snp_guest_abi_major"].is_number_integer());
  CHECK(v["snp_guest_abi_minor"].is_number_integer());
  CHECK(v["snp_smt_allowed"].is_boolean());
  CHECK(v["snp_single_socket"].is_boolean());
  // The values are the manifest's.
  CHECK(v["snp_launch_measurement"] ==
        json::array({hex_of(0x11, 48), hex_of(0x12, 48), hex_of(0x13, 48)}));
  CHECK(v["mr_td"] ==
        json::array({m["tdx"]["mr_td"]["single-pass"], m["tdx"]["mr_td"]["two-pass"]}));
  CHECK(v["rtmr_1"] == json::array({m["tdx"]["rtmr_1"]}));
  CHECK(v["rtmr_2"] == json::array({m["tdx"]["rtmr_2"]}));
  CHECK(v["tdvfkernel"] == m["tdx"]["tdvfkernel"]);
  CHECK(v["tdvfkernelparams"] == m["tdx"]["tdvfkernelparams"]);
  CHECK(v["tpm_pcr11"] == json::array({m["tpm"]["pcr11"]["sha256"]}));
  CHECK(v["tpm_pcr4"] == json::array({m["tpm"]["pcr4"]["sha256"]}));
  CHECK(v["snp_smt_allowed"] == true);
  CHECK(v["snp_single_socket"] == false);
  // Namespaced ids carry the same values.
  std::string p = "rvps:///example.org/guest-images/coco-base/";
  CHECK(v[p + "snp/measurement:1.4.0"] == v["snp_launch_measurement"]);
  CHECK(v[p + "tdx/rtmr_2:1.4.0"] == v["rtmr_2"]);
  CHECK(v[p + "tdx/tdvfkernel:1.4.0"] == v["tdvfkernel"]);
  CHECK(v[p + "tdx/rtmr_0:1.4.0"] == json::array({m["tdx"]["rtmr_0"]}));
  CHECK(v[p + "se/tag:1.4.0"] == m["se"]["tag"]);
  CHECK(v[p + "se/image_phkh:1.4.0"] == m["se"]["image_phkh"]);
  CHECK(!v.contains("rtmr_0"));  // not a default-policy name
  // Every hex value is lower case: the claims are.
  for (const auto& [k, val] : v.items())
    for (const auto& s : val.is_array() ? val : json::array({val}))
      if (s.is_string()) CHECK(s.get<std::string>().find_first_of("ABCDEF") == std::string::npos);
}

TEST_CASE("trustee message: the default policy's checks pass, and fail after one change",
          "[trustee]") {
  TempDir t;
  Exported e = export_fixture(t);
  json ref = e.values;
  add_operator_values(ref);

  Claims snp = evaluate(snp_evidence(e.manifest), ref);
  CHECK(snp.executables == 3);
  CHECK(snp.hardware == 2);
  CHECK(snp.configuration == 2);
  Claims tdx = evaluate(tdx_evidence(e.manifest), ref);
  CHECK(tdx.executables == 3);
  CHECK(tdx.hardware == 2);
  CHECK(tdx.configuration == 2);
  CHECK(evaluate(tpm_evidence(e.manifest), ref).executables == 3);

  SECTION("another launch measurement") {
    json ev = snp_evidence(e.manifest);
    ev["snp"]["measurement"] = hex_of(0x19, 48);
    CHECK(evaluate(ev, ref).executables == 33);
  }
  SECTION("another rtmr_2 (cmdline)") {
    json ev = tdx_evidence(e.manifest);
    ev["tdx"]["quote"]["body"]["rtmr_2"] = hex_of(0x29, 48);
    CHECK(evaluate(ev, ref).executables == 33);
  }
  SECTION("another kernel event digest") {
    json ev = tdx_evidence(e.manifest);
    ev["tdx"]["uefi_event_logs"][0]["digests"][0]["digest"] = hex_of(0x29, 48);
    CHECK(evaluate(ev, ref).executables == 4);
  }
  SECTION("another mr_td") {
    json ev = tdx_evidence(e.manifest);
    ev["tdx"]["quote"]["body"]["mr_td"] = hex_of(0x29, 48);
    CHECK(evaluate(ev, ref).hardware == 97);
  }
  SECTION("another guest policy") {
    json ev = snp_evidence(e.manifest);
    ev["snp"]["policy_single_socket"] = true;
    CHECK(evaluate(ev, ref).configuration == 3);
  }
  SECTION("another PCR 11") {
    json ev = tpm_evidence(e.manifest);
    ev["tpm"]["pcr11"] = hex_of(0x39, 32);
    CHECK(evaluate(ev, ref).executables == 33);
  }
  SECTION("a wrong JSON type fails silently, as in Rego") {
    ref["snp_guest_abi_major"] = "0";
    CHECK(evaluate(snp_evidence(e.manifest), ref).configuration == 3);
    ref["tdvfkernel"] = json::array({e.values["tdvfkernel"]});
    CHECK(evaluate(tdx_evidence(e.manifest), ref).executables == 4);
    ref["rtmr_1"] = e.values["rtmr_1"][0];
    CHECK(evaluate(tdx_evidence(e.manifest), ref).executables == 33);
  }
}

TEST_CASE("trustee: guest policy given as its 64-bit value", "[trustee]") {
  TempDir t;
  json m = make_outdir(t / "out");
  m["measurements"]["snp"]["policy"] = "0x130000";  // SMT, reserved bit 17, SINGLE_SOCKET
  write_text(t / "out/manifest.json", m.dump(2));
  auto r = run_mkguest({"export", "trustee", (t / "out").string(), "--values",
                        (t / "v.json").string(), "-o", (t / "m.json").string()});
  REQUIRE(r.exit_code == 0);
  json v = json::parse(read_text(t / "v.json"));
  CHECK(v["snp_smt_allowed"] == true);
  CHECK(v["snp_single_socket"] == true);
  CHECK(v["snp_guest_abi_major"] == 0);
}

TEST_CASE("trustee: malformed measurements are named", "[trustee]") {
  TempDir t;
  json m = make_outdir(t / "out");
  m["measurements"]["tdx"]["rtmr_1"] = "abcd";
  write_text(t / "out/manifest.json", m.dump(2));
  auto r = run_mkguest({"export", "trustee", (t / "out").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("measurements.tdx.rtmr_1") != std::string::npos);

  m = make_outdir(t / "out2");
  m["measurements"] = json::object();
  write_text(t / "out2/manifest.json", m.dump(2));
  r = run_mkguest({"export", "trustee", (t / "out2").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no measurements") != std::string::npos);
}

TEST_CASE("trustee: the kbs-client script registers what kbs-client can express", "[trustee]") {
  TempDir t;
  Exported e = export_fixture(t, {"--kbs-client-script", (t / "rv.sh").string()});
  // A kbs-client stand-in that records its arguments, one call per line.
  write_text(t / "kbs-client",
             "#!/bin/sh\nfor a; do printf '%s\\t' \"$a\"; done >> \"$LOG\"\necho >> \"$LOG\"\n");
  std::filesystem::permissions(t / "kbs-client", std::filesystem::perms(0755));
  auto r = run({"sh", (t / "rv.sh").string()},
               {"KBS_URL=http://kbs:8080", "KBS_ADMIN_KEY=/k",
                "KBS_CLIENT=" + (t / "kbs-client").string(), "LOG=" + (t / "log").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // Rebuild the values as kbs-client stores them: a one-element list unless
  // --as-single-value; --as-integer / --as-bool typed.
  json got = json::object();
  std::istringstream log(read_text(t / "log"));
  std::string line;
  int calls = 0;
  while (std::getline(log, line)) {
    std::vector<std::string> a;
    std::istringstream ls(line);
    std::string f;
    while (std::getline(ls, f, '\t')) a.push_back(f);
    REQUIRE(a.size() >= 8);
    CHECK(a[0] == "--url");
    CHECK(a[1] == "http://kbs:8080");
    CHECK(a[2] == "config");
    CHECK(a[3] == "--auth-private-key");
    REQUIRE(a[5] == "set-sample-reference-value");
    bool single = false, integer = false, boolean = false;
    for (std::size_t i = 8; i < a.size(); ++i) {
      single |= a[i] == "--as-single-value";
      integer |= a[i] == "--as-integer";
      boolean |= a[i] == "--as-bool";
    }
    json val = integer ? json(std::stoll(a[7])) : boolean ? json(a[7] == "true") : json(a[7]);
    got[a[6]] = single ? val : json::array({val});
    ++calls;
  }
  int expected = 0;
  for (const auto& [k, v] : e.values.items()) {
    if (v.is_array() && v.size() != 1) {
      CHECK(!got.contains(k));
      CHECK(read_text(t / "rv.sh").find("#   " + k + " (") != std::string::npos);
      continue;
    }
    ++expected;
    INFO(k);
    CHECK(got[k] == v);
  }
  CHECK(calls == expected);
}

TEST_CASE("trustee: SE hdr.bin and the policy snippet", "[trustee][se]") {
  TempDir t;
  Exported e = export_fixture(t, {"--se-dir", (t / "se").string()});
  SeImage se = make_se_image();
  std::string hdr = read_text(t / "se/hdr.bin");
  REQUIRE(hdr.size() == 0x1a0 + 2 * 80 + 128 + 16);
  CHECK(Bytes(hdr.begin(), hdr.end()) ==
        Bytes(se.image.begin() + 0x14000, se.image.begin() + 0x14000 + hdr.size()));
  std::string rego = read_text(t / "se/se-policy.rego");
  CHECK(rego.find("input.se.tag == \"" + se.tag + "\"") != std::string::npos);
  for (const auto& h : se.phkh) CHECK(rego.find("\"" + h + "\"") != std::string::npos);
  CHECK(rego.find("package policy") != std::string::npos);
}

// Acceptance: one real build with SNP, TDX, UKI (vTPM) and SE measurements.
TEST_CASE("trustee: a build with SNP, TDX, UKI and SE measurements passes the policy",
          "[trustee][se][tdx][uki][examples]") {
  TempDir t;
  std::string why;
  const auto ovmf = tdx::debian_ovmf(&why);
  const auto kernel = ovmf.empty() ? std::filesystem::path() : tdx::debian_kernel(&why);
  const std::filesystem::path stub = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";
  if (kernel.empty() || !std::filesystem::exists(stub)) {
    skip_or_fail(
        why.empty()
            ? "no systemd-boot-efi stub (scripts/install-deps --test installs systemd-boot-efi)"
            : why);
    return;
  }
  write_snp_fixtures(t.path());
  std::filesystem::copy_file(ovmf, t / "OVMF.fd");
  std::filesystem::copy_file(kernel, t / "vmlinuz");
  std::filesystem::copy_file(stub, t / "stub.efi");
  const auto v = source_dir() / "tests/vectors/se";
  std::filesystem::copy_file(v / "host.crt", t / "host.crt");
  write_text(t / "stage3a.bin", std::string(9912, 'a'));
  write_text(t / "stage3b.bin", std::string(5860, 'b'));
  write_text(t / "init", "#!/bin/sh\n");
  write_text(t / "recipe.yaml", R"(name: all-platforms
version: "1.0"
source_date_epoch: 1700000000
kernel: vmlinuz
cmdline: [console=ttyS0, "img=${name}"]
initrd:
  files: [{src: init, dst: /init}]
outputs:
  uki: {stub: stub.efi, uname: null}
  se:
    stage3a: stage3a.bin
    stage3b: stage3b.bin
    host_keys: [host.crt]
    no_verify: true
    component_check: false
    test_seed: acceptance
measurements:
  snp: {firmware: synth_ovmf_new_order.fd, vcpus: [1, 2], vcpu_types: [EPYC-Genoa]}
  tdx: {firmware: OVMF.fd, profile: edk2-202408-qemu8}
)");
  auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  auto r = run_mkguest({"export", "trustee", "out", "-o", "msg.json", "--values", "values.json",
                        "--se-dir", "se", "--namespace", "example.org/images"},
                       {}, t.path());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json m = json::parse(read_text(t / "out/manifest.json"));
  const json msg = json::parse(read_text(t / "msg.json"));
  write_text(t / "payload.b64", msg["payload"].get<std::string>());
  auto d = run({"base64", "-d", (t / "payload.b64").string()});
  REQUIRE(d.exit_code == 0);
  const json values = json::parse(d.out);
  CHECK(values == json::parse(read_text(t / "values.json")));
  // The manifest's values, with the policy's JSON types.
  const json& mm = m["measurements"];
  REQUIRE(values["snp_launch_measurement"].is_array());
  CHECK(values["snp_launch_measurement"].size() == mm["snp"]["launch_digests"].size());
  CHECK(values["mr_td"] ==
        json::array({mm["tdx"]["mr_td"]["single-pass"], mm["tdx"]["mr_td"]["two-pass"]}));
  CHECK(values["rtmr_1"] == json::array({mm["tdx"]["rtmr_1"]}));
  CHECK(values["rtmr_2"] == json::array({mm["tdx"]["rtmr_2"]}));
  CHECK(values["tdvfkernel"] == mm["tdx"]["trustee"]["tdvfkernel"]);
  CHECK(values["tpm_pcr11"].is_array());
  const std::string se_tag = "rvps:///example.org/images/all-platforms/se/tag:1.0";
  const std::string se_phkh = "rvps:///example.org/images/all-platforms/se/image_phkh:1.0";
  CHECK(values[se_tag] == mm["se"]["tag"]);
  CHECK(values[se_phkh] == mm["se"]["image_phkh"]);
  CHECK(read_text(t / "se/hdr.bin") == read_text(t / "out/hdr.bin"));

  // Evidence a genuine guest of this image reports; the policy accepts it.
  json ref = values;
  add_operator_values(ref);
  json manifest_like = m;
  manifest_like["measurements"]["tdx"]["tdvfkernel"] = mm["tdx"]["trustee"]["tdvfkernel"];
  manifest_like["measurements"]["tdx"]["tdvfkernelparams"] =
      mm["tdx"]["trustee"]["tdvfkernelparams"];
  // A guest attested in the initrd reports PCR 11 of the enter-initrd phase.
  for (const auto& e : mm["tpm"]["pcr11"]["sha256"])
    if (e["phase"] == "enter-initrd")
      manifest_like["measurements"]["tpm"]["pcr11"]["sha256"] = e["value"];
  REQUIRE(manifest_like["measurements"]["tpm"]["pcr11"]["sha256"].is_string());
  CHECK(evaluate(snp_evidence(manifest_like), ref).executables == 3);
  const Claims tdx = evaluate(tdx_evidence(manifest_like), ref);
  CHECK(tdx.executables == 3);
  CHECK(tdx.hardware == 2);
  CHECK(evaluate(tpm_evidence(manifest_like), ref).executables == 3);
  // SE: the snippet's rule (se.version "256", se.tag ==, se.image_phkh in).
  auto se_pinned = [&](const json& ev) {
    return ev["version"] == "256" && ev["tag"] == ref[se_tag] &&
           std::find(ref[se_phkh].begin(), ref[se_phkh].end(), ev["image_phkh"]) !=
               ref[se_phkh].end();
  };
  const json se_ev = {
      {"version", "256"}, {"tag", mm["se"]["tag"]}, {"image_phkh", mm["se"]["image_phkh"][0]}};
  CHECK(se_pinned(se_ev));
  const std::string rego = read_text(t / "se/se-policy.rego");
  CHECK(rego.find("input.se.tag == \"" + mm["se"]["tag"].get<std::string>() + "\"") !=
        std::string::npos);
  // One changed value fails.
  json bad = se_ev;
  bad["tag"] = hex_of(0x11, 16);
  CHECK_FALSE(se_pinned(bad));
  json ev = snp_evidence(manifest_like);
  ev["snp"]["measurement"] = hex_of(0x19, 48);
  CHECK(evaluate(ev, ref).executables == 33);
  ev = tdx_evidence(manifest_like);
  ev["tdx"]["quote"]["body"]["rtmr_1"] = hex_of(0x29, 48);
  CHECK(evaluate(ev, ref).executables == 33);
  // verify re-derives and accepts the build, and names a changed byte of the SE image.
  auto ok = run_mkguest({"verify", "out"}, {}, t.path());
  INFO(ok.out);
  CHECK(ok.exit_code == 0);
}

}  // namespace
}  // namespace mkguest::test
