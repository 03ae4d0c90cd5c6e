// The `exports` section: attestation files the build writes beside its
// outputs (Trustee reference values, provenance, SBOM, CoRIM).
#include <cctype>

#include "recipes/checker.h"

namespace mkguest::recipe {

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
  m.done();
  return e;
}

}  // namespace mkguest::recipe
