// The `exports` section: attestation files the build writes beside its
// outputs (Trustee reference values, provenance, SBOM, CoRIM).
#include <cctype>

#include "recipes/checker.h"

namespace mkguest::recipe {

namespace {

// `exports.kata` (docs/kata.md §10).
KataExportSpec read_kata_export(const Checker& c, const Node& n) {
  KataExportSpec k;
  k.present = true;
  k.mark = n.mark;
  MapView m(c, n, "exports.kata");
  const Node& dir = m.req("install_dir");
  k.install_dir = c.string(dir, "install_dir");
  if (k.install_dir.empty() || k.install_dir.front() != '/' ||
      k.install_dir.find_first_of("\"\\\n") != std::string::npos)
    c.fail(dir.mark, "'install_dir' must be an absolute host path without quotes");
  if (const Node* f = m.opt("firmware")) {
    MapView fm(c, *f, "exports.kata.firmware");
    for (const char* p : {"snp", "tdx", "coco-dev"}) {
      if (const Node* v = fm.opt(p)) {
        std::string path = c.string(*v, p);
        if (path.empty() || path.front() != '/')
          c.fail(v->mark, std::string("'") + p + "' must be an absolute host path");
        k.firmware[p] = path;
      }
    }
    fm.done();
  }
  if (const Node* v = m.opt("memory_mib"))
    k.memory_mib = static_cast<std::uint64_t>(c.integer(*v, "memory_mib", 64, 1 << 30));
  if (const Node* v = m.opt("vcpus"))
    k.vcpus = static_cast<std::uint32_t>(c.integer(*v, "vcpus", 1, 512));
  if (const Node* v = m.opt("guest_selinux")) k.guest_selinux = c.boolean(*v, "guest_selinux");
  if (const Node* v = m.opt("block_device_driver"))
    k.block_device_driver =
        c.choice(*v, "block_device_driver", {"virtio-scsi", "virtio-blk", "virtio-blk-ccw"});
  if (const Node* v = m.opt("rootfs_type"))
    k.rootfs_type = c.choice(*v, "rootfs_type", {"erofs", "ext4", "xfs"});
  m.done();
  return k;
}

}  // namespace

ExportsSpec read_exports(const Checker& c, const Node& n) {
  ExportsSpec e;
  MapView m(c, n, "exports");
  if (const Node* t = m.opt("trustee")) {
    if (t->is_map()) {
      e.trustee = true;
      MapView tm(c, *t, "exports.trustee");
      if (const Node* v = tm.opt("namespace")) {
        e.trustee_namespace = c.string(*v, "namespace");
        const auto& ns = e.trustee_namespace;
        bool ok = !ns.empty() && ns.front() != '/' && ns.back() != '/';
        for (char ch : ns)
          ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
                      ch == '-' || ch == '+' || ch == '/');
        if (!ok) c.fail(v->mark, "'namespace' must be [A-Za-z0-9._+-] parts separated by '/'");
      }
      if (const Node* v = tm.opt("kbs_client_script"))
        e.kbs_client_script = c.boolean(*v, "kbs_client_script");
      if (const Node* v = tm.opt("allow_unbound_kernel"))
        e.allow_unbound_kernel = c.boolean(*v, "allow_unbound_kernel");
      tm.done();
    } else {
      e.trustee = c.boolean(*t, "trustee");
    }
  }
  if (const Node* v = m.opt("provenance")) e.provenance = c.boolean(*v, "provenance");
  if (const Node* v = m.opt("sbom")) e.sbom = c.boolean(*v, "sbom");
  if (const Node* v = m.opt("corim")) {
    if (v->is_map()) {
      e.corim = true;
      MapView cm(c, *v, "exports.corim");
      if (const Node* s = cm.opt("sign")) {
        MapView sm(c, *s, "exports.corim.sign");
        auto& k = e.corim_sign;
        k.present = true;
        k.mark = s->mark;
        const Node& key = sm.req("key");
        const std::string name = c.string(key, "key");
        if (name.rfind("pkcs11:", 0) == 0) {
          k.key = k.key_display = name;
        } else {
          const PathRef ref = c.path(key, "key");
          k.key = ref.resolved.string();
          k.key_display = ref.display;
        }
        if (const Node* x = sm.opt("certificate")) k.certificate = c.path(*x, "certificate");
        if (const Node* x = sm.opt("pkcs11_module"))
          k.pkcs11_module = c.path(*x, "pkcs11_module").resolved.string();
        if (const Node* x = sm.opt("pin_env")) k.pin_env = c.string(*x, "pin_env");
        sm.done();
      }
      cm.done();
    } else {
      e.corim = c.boolean(*v, "corim");
    }
  }
  if (const Node* k = m.opt("kata")) e.kata = read_kata_export(c, *k);
  m.done();
  return e;
}

}  // namespace mkguest::recipe
