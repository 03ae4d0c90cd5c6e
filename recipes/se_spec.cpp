// The `outputs.se` section: an IBM Secure Execution image
// (recipes/README.md "### outputs.se", docs/se.md).
#include "recipes/checker.h"

namespace mkguest::recipe {
namespace {

std::vector<PathRef> paths(const Checker& c, const Node& n, const std::string& key) {
  std::vector<PathRef> out;
  for (const auto& item : c.list(n, key)) out.push_back(c.path(item, key));
  return out;
}

std::uint64_t flags(const Checker& c, const Node& n, const std::string& key) {
  const std::string s = c.string(n, key);
  std::string h = s.rfind("0x", 0) == 0 ? s.substr(2) : "";
  if (h.empty() || h.size() > 16 ||
      h.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    c.fail(n.mark, "'" + key + "' must be a hexadecimal string such as \"0xe0\", not '" + s + "'");
  return std::stoull(h, nullptr, 16);
}

std::string file_name(const Checker& c, const Node& n, const std::string& key) {
  std::string f = c.string(n, key);
  if (f.empty() || f.find('/') != std::string::npos || f[0] == '.')
    c.fail(n.mark, "'" + key + "' is a plain file name in the output directory");
  return f;
}

}  // namespace

SeSpec read_se(const Checker& c, const Node& n) {
  SeSpec s;
  s.present = true;
  s.mark = n.mark;
  MapView m(c, n, "se");
  s.stage3a = c.path(m.req("stage3a"), "stage3a");
  s.stage3b = c.path(m.req("stage3b"), "stage3b");
  const Node& hk = m.req("host_keys");
  s.host_keys = paths(c, hk, "host_keys");
  if (s.host_keys.empty()) c.fail(hk.mark, "'host_keys' needs at least one host-key document");
  if (s.host_keys.size() > 95) c.fail(hk.mark, "at most 95 host keys fit the SE header (2 pages)");
  const Node* verify = m.opt("verify");
  const Node* no_verify = m.opt("no_verify");
  if (no_verify) s.no_verify = c.boolean(*no_verify, "no_verify");
  if (verify && s.no_verify)
    c.fail(no_verify->mark, "'no_verify: true' and 'verify' exclude each other");
  if (verify) {
    MapView v(c, *verify, "verify");
    s.certs = paths(c, v.req("certs"), "certs");
    if (const Node* x = v.opt("crls")) s.crls = paths(c, *x, "crls");
    if (const Node* x = v.opt("root_ca")) s.root_ca = c.path(*x, "root_ca");
    v.done();
  } else if (!s.no_verify) {
    c.fail(n.mark,
           "'se' needs 'verify: {certs: [...], crls: [...]}' to check the host-key documents, or "
           "an explicit 'no_verify: true'");
  }
  if (const Node* x = m.opt("comm_key")) s.comm_key = c.path(*x, "comm_key");
  if (const Node* x = m.opt("header_key")) s.header_key = c.path(*x, "header_key");
  if (const Node* x = m.opt("image_key")) s.image_key = c.path(*x, "image_key");
  if (const Node* x = m.opt("pcf")) s.pcf = flags(c, *x, "pcf");
  if (const Node* x = m.opt("scf")) s.scf = flags(c, *x, "scf");
  if (const Node* x = m.opt("component_check"))
    s.component_check = c.boolean(*x, "component_check");
  if (const Node* x = m.opt("test_seed")) {
    s.test_seed = c.string(*x, "test_seed");
    if (s.test_seed.empty()) c.fail(x->mark, "'test_seed' must not be empty");
  }
  if (const Node* x = m.opt("file")) s.file = file_name(c, *x, "file");
  if (const Node* x = m.opt("hdr_file")) s.hdr_file = file_name(c, *x, "hdr_file");
  if (s.file == s.hdr_file) c.fail(n.mark, "'file' and 'hdr_file' must differ");
  if (const Node* x = m.opt("layout")) s.layout = c.choice(*x, "layout", {"genprotimg", "pvimg"});
  m.done();
  if ((s.pcf & (1ull << 29)) && !s.comm_key)
    c.fail(n.mark, "a pcf that allows dumping (0x20000000) needs 'comm_key'");
  if ((s.scf & (1ull << 62)) && !s.comm_key)
    c.fail(n.mark, "an scf that enforces CCK extension secrets needs 'comm_key'");
  return s;
}

}  // namespace mkguest::recipe
