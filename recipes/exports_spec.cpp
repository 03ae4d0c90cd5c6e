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
  if (const Node* v = m.opt("corim")) e.corim = c.boolean(*v, "corim");
  m.done();
  return e;
}

}  // namespace mkguest::recipe
