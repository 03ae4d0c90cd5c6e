// The `outputs.uki` section: a unified kernel image on a systemd-stub
// (recipes/README.md "## outputs", docs/uki.md).
#include "recipes/checker.h"

namespace mkguest::recipe {

UkiSpec read_uki(const Checker& c, const Node& n) {
  UkiSpec u;
  u.present = true;
  u.mark = n.mark;
  MapView m(c, n, "uki");
  u.stub = c.path(m.req("stub"), "stub");
  if (const Node* v = m.opt("os_release")) u.os_release = c.path(*v, "os_release");
  if (const Node* v = m.opt("uname")) {
    u.uname = v->is_null() ? "" : c.string(*v, "uname");
    if (u.uname.find_first_of(" \t\n") != std::string::npos)
      c.fail(v->mark, "'uname' must be one word (a kernel release such as 6.1.0-28-amd64)");
  }
  if (const Node* v = m.opt("sbat")) {
    for (const auto& item : c.list(*v, "sbat")) {
      std::string text = c.string(item, "sbat");
      if (text.rfind("sbat,", 0) != 0)
        c.fail(item.mark, "an 'sbat' text must start with the \"sbat,1,SBAT Version,...\" line");
      u.sbat.push_back(text);
    }
  }
  if (const Node* v = m.opt("splash")) u.splash = c.path(*v, "splash");
  if (const Node* v = m.opt("devicetree")) u.devicetree = c.path(*v, "devicetree");
  if (const Node* v = m.opt("sections")) {
    for (const auto& item : c.list(*v, "sections")) {
      MapView sm(c, item, "sections");
      const Node& name_node = sm.req("name");
      std::string name = c.string(name_node, "name");
      bool ok = !name.empty() && name.size() <= 8;
      for (char ch : name) ok = ok && ch > 0x20 && ch < 0x7f;
      if (!ok) c.fail(name_node.mark, "a section name is 1 to 8 printable ASCII characters");
      for (const char* own : {".osrel", ".cmdline", ".dtb", ".uname", ".splash", ".pcrpkey",
                              ".linux", ".initrd", ".sbat", ".pcrsig"})
        if (name == own)
          c.fail(name_node.mark, "section '" + name + "' is written by mkguest itself");
      u.sections.emplace_back(name, c.path(sm.req("src"), "src"));
      sm.done();
    }
  }
  if (const Node* v = m.opt("secureboot")) {
    MapView sb(c, *v, "secureboot");
    auto& s = u.secureboot;
    s.present = true;
    const Node& key = sb.req("key");
    const std::string k = c.string(key, "key");
    if (k.rfind("pkcs11:", 0) == 0) {
      s.key = s.key_display = k;
    } else {
      const PathRef ref = c.path(key, "key");
      s.key = ref.resolved.string();
      s.key_display = ref.display;
    }
    s.certificate = c.path(sb.req("certificate"), "certificate");
    if (const Node* x = sb.opt("pkcs11_module"))
      s.pkcs11_module = c.path(*x, "pkcs11_module").resolved.string();
    if (const Node* x = sb.opt("pin_env")) s.pin_env = c.string(*x, "pin_env");
    sb.done();
  }
  if (const Node* v = m.opt("pcr_signature")) {
    MapView ps(c, *v, "pcr_signature");
    auto& s = u.pcr_signature;
    s.present = true;
    s.private_key = c.path(ps.req("private_key"), "private_key");
    s.public_key = c.path(ps.req("public_key"), "public_key");
    if (const Node* x = ps.opt("banks"))
      for (const auto& b : c.list(*x, "banks"))
        s.banks.push_back(c.choice(b, "banks", {"sha1", "sha256", "sha384", "sha512"}));
    if (const Node* x = ps.opt("phases"))
      for (const auto& ph : c.list(*x, "phases")) s.phases.push_back(c.string(ph, "phases"));
    ps.done();
  }
  const Node* base_profile = m.opt("profile");
  if (base_profile) u.profile = c.string(*base_profile, "profile");
  if (const Node* v = m.opt("profiles")) {
    for (const auto& item : c.list(*v, "profiles")) {
      MapView pm(c, item, "profiles");
      UkiSpec::Profile p;
      p.profile = c.string(pm.req("profile"), "profile");
      if (const Node* x = pm.opt("cmdline")) p.cmdline = c.string(*x, "cmdline");
      pm.done();
      u.profiles.push_back(std::move(p));
    }
  }
  if (base_profile && u.profiles.empty())
    c.fail(base_profile->mark,
           "'profile' needs 'profiles': alone, ukify builds a profile PE to join, not a UKI");
  if (const Node* v = m.opt("grow_headers")) u.grow_headers = c.boolean(*v, "grow_headers");
  if (const Node* v = m.opt("file")) {
    u.file = c.string(*v, "file");
    if (u.file.empty() || u.file.find('/') != std::string::npos || u.file[0] == '.')
      c.fail(v->mark, "'file' is a plain file name in the output directory");
  }
  m.done();
  return u;
}

}  // namespace mkguest::recipe
