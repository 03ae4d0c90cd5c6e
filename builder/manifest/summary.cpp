#include "builder/manifest/summary.h"

#include <algorithm>
#include <sstream>

#include "base/error.h"

namespace mkguest {

namespace {

using nlohmann::json;

const char* const kParts[] = {"firmware", "kernel", "initrd", "cmdline", "rootfs"};

// A string at j[key], or a place-carrying error when it is there but not a string.
std::string str(const json& j, const char* key, const std::string& where,
                const std::string& source) {
  if (!j.is_object() || !j.contains(key)) return {};
  const json& v = j.at(key);
  if (!v.is_string()) throw InputError(source, "", where + "." + key + ": not a string");
  return v.get<std::string>();
}

const json* obj(const json& j, const char* key, const std::string& where,
                const std::string& source) {
  if (!j.is_object() || !j.contains(key)) return nullptr;
  const json& v = j.at(key);
  if (!v.is_object()) throw InputError(source, "", where + "." + key + ": not an object");
  return &v;
}

void set_covers(SummaryGroup& g, const json* covers) {
  if (!covers || !covers->is_object()) return;
  for (const char* p : kParts) {
    auto it = covers->find(p);
    if (it == covers->end() || !it->is_boolean()) continue;
    (it->get<bool>() ? g.binds : g.unbound).push_back(p);
  }
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

void add_snp(Summary& s, const json& snp, const std::string& source) {
  SummaryGroup g{"snp", "AMD SEV-SNP launch digests (MEASUREMENT)", {}, {}, {}, {}};
  set_covers(g, obj(snp, "covers", "measurements.snp", source));
  if (const json* fw = obj(snp, "firmware", "measurements.snp", source))
    g.note = "firmware " + str(*fw, "path", "measurements.snp.firmware", source);
  auto it = snp.find("launch_digests");
  if (it != snp.end() && it->is_array()) {
    for (const auto& d : *it) {
      const std::string w = "measurements.snp.launch_digests[]";
      std::string label;
      if (d.contains("vcpus") && d["vcpus"].is_number_unsigned())
        label = std::to_string(d["vcpus"].get<std::uint64_t>()) + " vCPU";
      for (const char* k : {"vcpu_type", "vcpu_sig", "vmm", "guest_features"}) {
        std::string v = str(d, k, w, source);
        if (v.empty() || (std::string(k) == "vcpu_sig" && d.contains("vcpu_type"))) continue;
        if (std::string(k) == "guest_features") v = "features " + v;
        label += (label.empty() ? "" : " ") + v;
      }
      g.values.push_back({label, str(d, "digest", w, source)});
    }
  }
  // outputs.igvm: each file's digest (docs/igvm.md §7).
  auto ig = snp.find("igvm");
  if (ig != snp.end() && ig->is_array()) {
    for (const auto& d : *ig) {
      const std::string w = "measurements.snp.igvm[]";
      g.values.push_back({"IGVM " + str(d, "file", w, source), str(d, "digest", w, source)});
    }
  }
  s.groups.push_back(g);
}

void add_tdx(Summary& s, const json& tdx, const std::string& source) {
  const std::string w = "measurements.tdx";
  SummaryGroup g{"tdx", "Intel TDX (MRTD, RTMR 1-2)", {}, {}, {}, {}};
  set_covers(g, obj(tdx, "covers", w, source));
  std::string profile = str(tdx, "profile", w, source);
  if (!profile.empty()) g.note = "profile " + profile;
  if (const json* mr = obj(tdx, "mr_td", w, source)) {
    for (const auto& [order, v] : mr->items()) {
      if (!v.is_string()) throw InputError(source, "", w + ".mr_td." + order + ": not a string");
      g.values.push_back({"MRTD (" + order + ")", v.get<std::string>()});
    }
  }
  for (const char* r : {"rtmr_1", "rtmr_2"}) {
    std::string v = str(tdx, r, w, source);
    if (!v.empty()) g.values.push_back({std::string("RTMR ") + r[5], v});
  }
  s.groups.push_back(g);
}

// PCR 4 per boot path and PCR 11 as the initrd and the booted system read it,
// SHA-256 bank; covers per boot path ("uki", "direct-qemu-ovmf").
void add_tpm(Summary& s, const json& tpm, const std::string& source) {
  const std::string w = "measurements.tpm";
  const json* covers = obj(tpm, "covers", w, source);
  SummaryGroup uki{"tpm.uki", "vTPM, UKI boot (SHA-256 bank)", {}, {}, {}, {}};
  SummaryGroup direct{"tpm.direct", "vTPM, direct QEMU boot (SHA-256 bank)", {}, {}, {}, {}};
  if (covers) {
    set_covers(uki, obj(*covers, "uki", w + ".covers", source));
    set_covers(direct, obj(*covers, "direct-qemu-ovmf", w + ".covers", source));
  }
  if (const json* pcr4 = obj(tpm, "pcr4", w, source)) {
    if (const json* b = obj(*pcr4, "sha256", w + ".pcr4", source)) {
      for (const auto& [path, v] : b->items()) {
        if (!v.is_string()) continue;
        SummaryGroup& g = path.rfind("direct-", 0) == 0 ? direct : uki;
        g.values.push_back({"PCR 4 (" + path + ")", v.get<std::string>()});
      }
    }
  }
  if (const json* pcr11 = obj(tpm, "pcr11", w, source)) {
    auto it = pcr11->find("sha256");
    if (it != pcr11->end() && it->is_array()) {
      for (const auto& e : *it) {
        const std::string phase = str(e, "phase", w + ".pcr11", source);
        if (!phase.empty() && phase != "enter-initrd:leave-initrd:sysinit:ready") continue;
        uki.values.push_back({phase.empty() ? "PCR 11 (in the initrd)" : "PCR 11 (system ready)",
                              str(e, "value", w + ".pcr11", source)});
      }
    }
  }
  if (!uki.values.empty()) s.groups.push_back(uki);
  if (!direct.values.empty()) s.groups.push_back(direct);
}

void add_se(Summary& s, const json& se, const std::string& source) {
  SummaryGroup g{"se", "IBM Secure Execution", {}, {}, {}, {}};
  set_covers(g, obj(se, "covers", "measurements.se", source));
  for (const char* k : {"tag", "image_phkh", "pld", "ald", "tld"}) {
    std::string v = str(se, k, "measurements.se", source);
    if (!v.empty()) g.values.push_back({k, v});
  }
  s.groups.push_back(g);
}

}  // namespace

Summary summarize_manifest(const json& m, const std::string& source) {
  Summary s;
  if (const json* r = obj(m, "recipe", "", source)) {
    s.name = str(*r, "name", "recipe", source);
    s.version = str(*r, "version", "recipe", source);
  }
  auto outs = m.find("outputs");
  if (outs != m.end() && outs->is_array()) {
    for (const auto& o : *outs) {
      SummaryArtifact a;
      a.file = str(o, "file", "outputs[]", source);
      a.role = str(o, "role", "outputs[]", source);
      a.sha256 = str(o, "sha256", "outputs[]", source);
      if (o.contains("size") && o["size"].is_number_unsigned())
        a.size = o["size"].get<std::uint64_t>();
      s.artifacts.push_back(a);
    }
  }
  if (const json* v = obj(m, "verity", "", source)) {
    SummaryGroup g{"verity", "dm-verity root filesystem", {}, {}, {}, {}};
    g.note = "the root hash pins the rootfs; it is on the kernel command line";
    g.values.push_back({"root hash", str(*v, "root_hash", "verity", source)});
    s.groups.push_back(g);
  }
  if (const json* ms = obj(m, "measurements", "", source)) {
    if (const json* x = obj(*ms, "snp", "measurements", source)) add_snp(s, *x, source);
    if (const json* x = obj(*ms, "tdx", "measurements", source)) add_tdx(s, *x, source);
    if (const json* x = obj(*ms, "tpm", "measurements", source)) add_tpm(s, *x, source);
    if (const json* x = obj(*ms, "se", "measurements", source)) add_se(s, *x, source);
  }
  // The vTPM's firmware PCRs are not predicted by design (docs/pcr.md): only
  // the parts of the guest left unbound are warnings.
  for (const auto& g : s.groups) {
    std::vector<std::string> parts;
    for (const auto& p : g.unbound)
      if (!(p == "firmware" && g.key.rfind("tpm.", 0) == 0)) parts.push_back(p);
    if (!parts.empty())
      s.warnings.push_back(g.title + ": the values do not bind the " + join(parts, ", "));
  }
  return s;
}

std::string summary_text(const Summary& s, const std::string& outdir,
                         const std::vector<std::string>& exports) {
  std::ostringstream out;
  out << s.name << (s.version.empty() ? "" : " " + s.version) << " in " << outdir << "\n";
  std::size_t width = 4, digits = 1;
  for (const auto& a : s.artifacts) {
    width = std::max(width, a.file.size());
    digits = std::max(digits, std::to_string(a.size).size());
  }
  out << "\nArtifacts\n";
  for (const auto& a : s.artifacts) {
    const std::string size = std::to_string(a.size);
    out << "  " << a.file << std::string(width - a.file.size(), ' ') << "  "
        << std::string(digits - size.size(), ' ') << size << " bytes  sha256 " << a.sha256 << "\n";
  }
  for (const auto& g : s.groups) {
    out << "\n" << g.title;
    if (!g.note.empty()) out << " (" << g.note << ")";
    out << "\n";
    if (!g.binds.empty() || !g.unbound.empty()) {
      out << "  binds: " << (g.binds.empty() ? "nothing" : join(g.binds, ", "));
      if (!g.unbound.empty()) out << "; NOT bound: " << join(g.unbound, ", ");
      out << "\n";
    }
    std::size_t lw = 0;
    for (const auto& v : g.values) lw = std::max(lw, v.label.size());
    for (const auto& v : g.values)
      out << "  " << v.label << std::string(lw - v.label.size(), ' ') << "  " << v.value << "\n";
  }
  if (!exports.empty()) {
    out << "\nExports\n";
    for (const auto& e : exports) {
      out << "  " << e;
      if (e == "rvps-message.json")
        out << "  (the Trustee RVPS message: register it with the RVPS)";
      out << "\n";
    }
  }
  for (const auto& w : s.warnings) out << "\nwarning: " << w;
  if (!s.warnings.empty()) out << "\n";
  return out.str();
}

json summary_json(const Summary& s, const std::string& outdir,
                  const std::vector<std::string>& exports) {
  json j{{"name", s.name}, {"version", s.version}, {"outdir", outdir}};
  j["artifacts"] = json::array();
  for (const auto& a : s.artifacts)
    j["artifacts"].push_back(
        {{"file", a.file}, {"role", a.role}, {"size", a.size}, {"sha256", a.sha256}});
  j["groups"] = json::array();
  for (const auto& g : s.groups) {
    json values = json::array();
    for (const auto& v : g.values) values.push_back({{"label", v.label}, {"value", v.value}});
    json gj{{"key", g.key}, {"title", g.title}, {"values", values}};
    if (!g.note.empty()) gj["note"] = g.note;
    if (!g.binds.empty() || !g.unbound.empty()) {
      gj["binds"] = g.binds;
      gj["unbound"] = g.unbound;
    }
    j["groups"].push_back(gj);
  }
  j["exports"] = exports;
  j["warnings"] = s.warnings;
  return j;
}

}  // namespace mkguest
