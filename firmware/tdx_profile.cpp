// TDX host profiles: YAML documents of behaviour switches (see tdx_profile.h,
// docs/specs/tdx.md §8). Unknown keys are errors so that a typo cannot silently select
// the default behaviour.
#include "firmware/tdx_profile.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <set>

#include "base/error.h"
#include "firmware/guid.h"

#include "firmware/tdx_profiles_data.h"

namespace mkguest::tdx {
namespace {

[[noreturn]] void fail(const std::string& source, const YAML::Node& n, const std::string& msg) {
  const auto m = n.Mark();
  throw InputError(source, std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1), msg);
}

void check_keys(const std::string& src, const YAML::Node& map, std::set<std::string> allowed) {
  if (!map.IsMap()) fail(src, map, "expected a mapping");
  for (const auto& kv : map) {
    const auto k = kv.first.as<std::string>();
    if (!allowed.count(k)) fail(src, kv.first, "unknown key '" + k + "'");
  }
}

std::string str(const std::string& src, const YAML::Node& n) {
  if (!n.IsScalar()) fail(src, n, "expected a string");
  return n.as<std::string>();
}

bool boolean(const std::string& src, const YAML::Node& n) {
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) fail(src, n, "expected true or false");
  return v;
}

std::uint64_t number(const std::string& src, const YAML::Node& n, std::uint64_t max) {
  const std::string s = str(src, n);
  std::size_t used = 0;
  std::uint64_t v = 0;
  try {
    v = std::stoull(s, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || s.empty() || s[0] == '-' || v > max)
    fail(src, n, "expected a number <= " + std::to_string(max));
  return v;
}

std::string guid(const std::string& src, const YAML::Node& n) {
  Guid g;
  const std::string s = str(src, n);
  if (!Guid::try_parse(s, &g)) fail(src, n, "malformed GUID '" + s + "'");
  return s;
}

void range(const std::string& src, const YAML::Node& n, std::string* lo, std::string* hi) {
  check_keys(src, n, {"min", "max"});
  if (n["min"]) *lo = str(src, n["min"]);
  if (n["max"]) *hi = str(src, n["max"]);
}

}  // namespace

Profile parse_profile(const std::string& text, const std::string& src) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(src, std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1),
                     e.msg);
  }
  check_keys(
      src, root,
      {"name", "description", "edk2", "qemu", "page_order", "switches", "boot", "fw_cfg_items"});
  Profile p;
  if (!root["name"]) fail(src, root, "profile has no 'name'");
  p.name = str(src, root["name"]);
  if (root["description"]) p.description = str(src, root["description"]);
  if (root["edk2"]) range(src, root["edk2"], &p.edk2_min, &p.edk2_max);
  if (root["qemu"]) range(src, root["qemu"], &p.qemu_min, &p.qemu_max);
  if (auto o = root["page_order"]) {
    if (!parse_page_order(str(src, o), &p.page_order))
      fail(src, o, "page_order must be single-pass or two-pass");
  }
  if (auto s = root["switches"]) {
    const std::map<std::string, bool*> sw = {{"cc_measurement", &p.cc_measurement},
                                             {"separator_in_rtmr1", &p.separator_in_rtmr1},
                                             {"kernel_patched", &p.kernel_patched},
                                             {"initrd_prefix", &p.initrd_prefix},
                                             {"shim_prefix", &p.shim_prefix}};
    std::set<std::string> keys;
    for (const auto& [k, v] : sw) keys.insert(k);
    check_keys(src, s, keys);
    for (const auto& kv : s) *sw.at(kv.first.as<std::string>()) = boolean(src, kv.second);
  }
  if (auto b = root["boot"]) {
    check_keys(src, b, {"order", "options"});
    if (auto o = b["order"]) {
      if (!o.IsSequence()) fail(src, o, "boot.order must be a list");
      for (const auto& n : o)
        p.boot_order.push_back(static_cast<std::uint16_t>(number(src, n, 0xFFFF)));
    }
    if (auto o = b["options"]) {
      if (!o.IsSequence()) fail(src, o, "boot.options must be a list");
      for (const auto& n : o) {
        check_keys(src, n, {"number", "attributes", "description", "fv", "file"});
        for (const char* k : {"number", "attributes", "description", "fv", "file"})
          if (!n[k]) fail(src, n, std::string("boot option has no '") + k + "'");
        BootOption opt;
        opt.number = static_cast<std::uint16_t>(number(src, n["number"], 0xFFFF));
        opt.attributes = static_cast<std::uint32_t>(number(src, n["attributes"], 0xFFFFFFFF));
        opt.description = str(src, n["description"]);
        opt.fv_guid = guid(src, n["fv"]);
        opt.file_guid = guid(src, n["file"]);
        p.boot_options.push_back(opt);
      }
    }
  }
  if (auto f = root["fw_cfg_items"]) {
    if (!f.IsSequence()) fail(src, f, "fw_cfg_items must be a list");
    for (const auto& n : f) {
      check_keys(src, n, {"name", "hex"});
      if (!n["name"] || !n["hex"]) fail(src, n, "fw_cfg item needs 'name' and 'hex'");
      FwCfgItem item;
      item.name = str(src, n["name"]);
      if (!from_hex(str(src, n["hex"]), &item.data)) fail(src, n["hex"], "malformed hex");
      p.fw_cfg_items.push_back(item);
    }
  }
  return p;
}

std::vector<std::string> builtin_profile_names() {
  std::vector<std::string> out;
  for (const auto& f : profiles_data::files()) out.push_back(parse_profile(f.text, f.name).name);
  return out;
}

Profile builtin_profile(const std::string& name) {
  for (const auto& f : profiles_data::files()) {
    Profile p = parse_profile(f.text, "firmware/profiles/" + f.name);
    if (p.name == name) return p;
  }
  std::string known;
  for (const auto& n : builtin_profile_names()) known += (known.empty() ? "" : ", ") + n;
  throw ValueError("unknown TDX profile '" + name + "' (known: " + known + ")");
}

const std::string& default_profile_name() {
  static const std::string n = "edk2-202411-qemu9";
  return n;
}

}  // namespace mkguest::tdx
