// The `measurements` section (recipes/README.md "## measurements").
#include <cctype>

#include "firmware/snp_measure.h"
#include "firmware/tdx_profile.h"
#include "recipes/checker.h"

namespace mkguest::recipe {

namespace {

// A scalar or a list of scalars, each read by `one`.
template <typename T, typename F>
std::vector<T> one_or_many(const Checker& c, const Node& n, const std::string& key, F one) {
  std::vector<T> out;
  if (n.is_seq()) {
    for (const auto& item : n.seq) out.push_back(one(item));
    if (out.empty()) c.fail(n.mark, "'" + key + "' must not be empty");
  } else {
    out.push_back(one(n));
  }
  return out;
}

std::uint64_t hex_or_int(const Checker& c, const Node& n, const std::string& key) {
  std::string s = c.string(n, key);
  try {
    std::size_t pos = 0;
    std::uint64_t v = std::stoull(s, &pos, 0);
    if (pos == s.size() && s[0] != '-') return v;
  } catch (const std::exception&) {
  }
  c.fail(n.mark, "'" + key + "' must be an integer such as 0x1, not '" + s + "'");
}

// 16 bytes as 32 hex digits, lower-cased.
std::string id_hex(const Checker& c, const Node& n, const char* key) {
  std::string h = c.string(n, key);
  bool ok = h.size() == 32;
  for (char& ch : h) {
    ok = ok && std::isxdigit(static_cast<unsigned char>(ch));
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  if (!ok) c.fail(n.mark, std::string("'") + key + "' must be 16 bytes as 32 hex digits");
  return h;
}

SnpIdBlockSpec read_id_block(const Checker& c, const Node& n) {
  SnpIdBlockSpec b;
  b.present = true;
  b.mark = n.mark;
  MapView m(c, n, "id_block");
  const PathRef id = c.path(m.req("id_key"), "id_key");
  b.id_key = id.resolved;
  b.id_key_display = id.display;
  const PathRef author = c.path(m.req("author_key"), "author_key");
  b.author_key = author.resolved;
  b.author_key_display = author.display;
  if (const Node* v = m.opt("family_id")) b.family_id = id_hex(c, *v, "family_id");
  if (const Node* v = m.opt("image_id")) b.image_id = id_hex(c, *v, "image_id");
  if (const Node* v = m.opt("guest_svn"))
    b.guest_svn = static_cast<std::uint32_t>(c.integer(*v, "guest_svn", 0, 0xffffffffLL));
  m.done();
  return b;
}

SnpSpec read_snp(const Checker& c, const Node& n) {
  SnpSpec s;
  s.present = true;
  s.mark = n.mark;
  MapView m(c, n, "snp");
  PathRef fw = c.path(m.req("firmware"), "firmware");
  s.firmware = fw.resolved;
  s.firmware_display = fw.display;
  if (const Node* v = m.opt("vcpus")) {
    s.vcpus = one_or_many<std::uint32_t>(c, *v, "vcpus", [&](const Node& x) {
      return static_cast<std::uint32_t>(c.integer(x, "vcpus", 1, 512));
    });
  }
  if (const Node* v = m.opt("vcpu_types")) {
    s.vcpu_types = one_or_many<std::string>(c, *v, "vcpu_types", [&](const Node& x) {
      return c.choice(x, "vcpu_types", snp_vcpu_types());
    });
  }
  if (const Node* v = m.opt("vcpu_sigs")) {
    s.vcpu_sigs = one_or_many<std::uint32_t>(c, *v, "vcpu_sigs", [&](const Node& x) {
      return static_cast<std::uint32_t>(hex_or_int(c, x, "vcpu_sigs"));
    });
  }
  if (const Node* v = m.opt("vmm")) {
    s.vmms = one_or_many<std::string>(c, *v, "vmm", [&](const Node& x) {
      return c.choice(x, "vmm", {"QEMU", "ec2", "gce"});
    });
  }
  if (const Node* v = m.opt("guest_features")) {
    s.guest_features = one_or_many<std::uint64_t>(
        c, *v, "guest_features", [&](const Node& x) { return hex_or_int(c, x, "guest_features"); });
  }
  if (const Node* v = m.opt("kernel_hashes")) {
    s.kernel_hashes = c.choice(*v, "kernel_hashes", {"auto", "true", "false"});
  }
  if (const Node* p = m.opt("policy")) {
    MapView pm(c, *p, "policy");
    if (const Node* v = pm.opt("abi_major"))
      s.abi_major = static_cast<std::uint32_t>(c.integer(*v, "abi_major", 0, 255));
    if (const Node* v = pm.opt("abi_minor"))
      s.abi_minor = static_cast<std::uint32_t>(c.integer(*v, "abi_minor", 0, 255));
    if (const Node* v = pm.opt("smt_allowed")) s.smt_allowed = c.boolean(*v, "smt_allowed");
    if (const Node* v = pm.opt("migrate_ma")) s.migrate_ma = c.boolean(*v, "migrate_ma");
    if (const Node* v = pm.opt("debug")) s.debug = c.boolean(*v, "debug");
    if (const Node* v = pm.opt("single_socket")) s.single_socket = c.boolean(*v, "single_socket");
    pm.done();
  }
  if (const Node* v = m.opt("id_block")) s.id_block = read_id_block(c, *v);
  m.done();
  bool qemu = false;
  for (const auto& v : s.vmms) qemu = qemu || v == "QEMU";
  if (qemu && s.vcpu_types.empty() && s.vcpu_sigs.empty()) {
    c.fail(n.mark,
           "measurements.snp with vmm QEMU needs 'vcpu_types' or 'vcpu_sigs' (the guest "
           "CPUID signature is measured)");
  }
  return s;
}

}  // namespace

MeasurementsSpec read_measurements(const Checker& c, const Node& n) {
  MeasurementsSpec ms;
  MapView m(c, n, "measurements");
  if (const Node* v = m.opt("snp")) ms.snp = read_snp(c, *v);
  if (const Node* v = m.opt("tdx")) {
    MapView t(c, *v, "tdx");
    TdxSpec& x = ms.tdx;
    x.present = true;
    x.mark = v->mark;
    const PathRef fw = c.path(t.req("firmware"), "firmware");
    x.firmware = fw.resolved;
    x.firmware_display = fw.display;
    if (const Node* p = t.opt("profile")) {
      const std::string name = c.string(*p, "profile");
      if (name.size() > 5 && name.compare(name.size() - 5, 5, ".yaml") == 0) {
        const PathRef ref = c.path(*p, "profile");
        x.profile_file = ref.resolved;
        x.profile_display = ref.display;
        x.profile = name;
      } else {
        x.profile = c.choice(*p, "profile", tdx::builtin_profile_names());
      }
    }
    if (const Node* r = t.opt("ram_mib"))
      x.ram_mib = static_cast<std::uint64_t>(c.integer(*r, "ram_mib", 64, 1 << 22));
    if (const Node* a = t.opt("acpi")) {
      const PathRef ref = c.path(*a, "acpi", /*directory=*/true);
      x.acpi_dir = ref.resolved;
      x.acpi_display = ref.display;
    }
    if (const Node* k = t.opt("kernel_events")) {
      x.kernel_events = c.choice(*k, "kernel_events", {"auto", "false"});
      x.kernel_events_mark = k->mark;
    }
    // TDATTRIBUTES and XFAM, pinned: the TD report's 8 bytes each, in hex.
    auto report_bytes = [&](const char* key) {
      const Node* k = t.opt(key);
      if (!k) return std::string();
      std::string h = c.string(*k, key);
      bool ok = h.size() == 16;
      for (char& ch : h) {
        ok = ok && std::isxdigit(static_cast<unsigned char>(ch));
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      }
      if (!ok)
        c.fail(k->mark, std::string("'") + key +
                            "' must be the TD report's 8 bytes as 16 hex digits (e.g. "
                            "0000001000000000)");
      return h;
    };
    x.td_attributes = report_bytes("td_attributes");
    x.xfam = report_bytes("xfam");
    t.done();
  }
  if (const Node* v = m.opt("tpm")) {
    MapView t(c, *v, "tpm");
    ms.tpm.present = true;
    if (const Node* r = t.opt("direct_ram_mib")) {
      const std::vector<Node> one{*r};
      for (const auto& item : r->is_seq() ? r->seq : one)
        ms.tpm.direct_ram_mib.push_back(
            static_cast<std::uint64_t>(c.integer(item, "direct_ram_mib", 64, 1 << 22)));
    }
    t.done();
  }
  m.done();
  return ms;
}

}  // namespace mkguest::recipe
