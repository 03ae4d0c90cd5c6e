// The `initdata` key: the pod's CoCo init-data (docs/kata.md), either a path
// to a TOML document (read and validated by the build, with errors at the
// TOML's line and column) or an inline mapping
//   initdata:
//     version: "0.1.0"          # optional; the only version there is
//     algorithm: sha384         # sha256, sha384 or sha512
//     data:                     # file name -> content, strings only
//       aa.toml: |
//         ...
// which the build renders to one fixed TOML text (builder/formats/initdata).
#include "recipes/checker.h"

namespace mkguest::recipe {

InitdataSpec read_initdata(const Checker& c, const Node& n) {
  InitdataSpec s;
  s.present = true;
  s.mark = n.mark;
  if (n.is_scalar()) {
    s.file = c.path(n, "initdata");
    return s;
  }
  if (!n.is_map()) {
    c.fail(n.mark, std::string("'initdata' must be a path or a mapping, not ") + n.kind_name());
  }
  MapView m(c, n, "initdata");
  if (const Node* v = m.opt("version")) {
    if (c.string(*v, "version") != "0.1.0") {
      c.fail(v->mark, "unsupported init-data version '" + v->scalar + "', expected 0.1.0");
    }
  }
  s.algorithm = c.choice(m.req("algorithm"), "algorithm", {"sha256", "sha384", "sha512"});
  const Node& data = m.req("data");
  if (!data.is_map() && !data.is_null()) {
    c.fail(data.mark, std::string("'data' must be a mapping, not ") + data.kind_name());
  }
  for (const auto& item : data.map) {
    if (!item.value.is_scalar()) {
      c.fail(item.value.mark,
             "init-data value '" + item.key + "' must be a string, not " + item.value.kind_name());
    }
    s.data.emplace_back(item.key, item.value.scalar);
  }
  m.done();
  return s;
}

}  // namespace mkguest::recipe
