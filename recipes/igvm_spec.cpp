// The `outputs.igvm` section: IGVM files mirroring QEMU's SEV-SNP launch of
// the measurements.snp firmware (recipes/README.md "### outputs.igvm",
// docs/igvm.md §7). The file takes its firmware, policy and kernel hashes
// from measurements.snp, so that its digest is one of that matrix's.
#include "firmware/snp_measure.h"
#include "recipes/checker.h"

namespace mkguest::recipe {
namespace {

std::uint64_t hex_u64(const Checker& c, const Node& n, const std::string& key) {
  const std::string s = c.string(n, key);
  try {
    std::size_t pos = 0;
    const std::uint64_t v = std::stoull(s, &pos, 0);
    if (pos == s.size() && s[0] != '-') return v;
  } catch (const std::exception&) {
  }
  c.fail(n.mark, "'" + key + "' must be an integer such as 0x1, not '" + s + "'");
}

// The one value of measurements.snp's list, when it holds exactly one.
template <typename T>
const T* only(const std::vector<T>& v) {
  return v.size() == 1 ? &v.front() : nullptr;
}

}  // namespace

IgvmSpec read_igvm(const Checker& c, const Node& n) {
  IgvmSpec s;
  s.present = true;
  s.mark = n.mark;
  MapView m(c, n, "igvm");
  if (const Node* p = m.opt("platforms")) {
    s.platforms.clear();
    for (const Node& item : c.list(*p, "platforms")) {
      const std::string name = c.choice(item, "platforms", {"snp", "tdx"});
      // A TDVF launch has no mirror here whose MRTD is checked against
      // measurements.tdx: QEMU adds TDVF's pages in one of two orders (the
      // single-pass and two-pass MRTD), an IGVM file fixes one, and
      // microsoft/igvm defines no TDX VP context (docs/igvm.md §7).
      if (name == "tdx")
        c.fail(item.mark,
               "outputs.igvm: platform tdx is not supported: mkguest writes IGVM files only for "
               "SEV-SNP (no TDVF layout is mirrored and checked against measurements.tdx; see "
               "docs/igvm.md)");
      for (const auto& seen : s.platforms)
        if (seen == name) c.fail(item.mark, "'platforms' lists '" + name + "' twice");
      s.platforms.push_back(name);
    }
    if (s.platforms.empty()) c.fail(p->mark, "'platforms' must not be empty");
  }
  if (const Node* v = m.opt("vcpus")) {
    const std::vector<Node> one{*v};
    for (const Node& item : v->is_seq() ? v->seq : one) {
      const auto n_vcpus = static_cast<std::uint32_t>(c.integer(item, "vcpus", 1, 512));
      for (auto seen : s.vcpus)
        if (seen == n_vcpus) c.fail(item.mark, "'vcpus' lists " + std::to_string(seen) + " twice");
      s.vcpus.push_back(n_vcpus);
    }
    if (s.vcpus.empty()) c.fail(v->mark, "'vcpus' must not be empty");
  }
  const Node* type = m.opt("vcpu_type");
  const Node* sig = m.opt("vcpu_sig");
  if (type && sig) c.fail(sig->mark, "'vcpu_type' and 'vcpu_sig' exclude each other");
  if (type) {
    s.vcpu_type = c.choice(*type, "vcpu_type", snp_vcpu_types());
    snp_vcpu_signature(s.vcpu_type, &s.vcpu_sig);
  }
  if (sig) {
    const std::uint64_t v = hex_u64(c, *sig, "vcpu_sig");
    if (v > 0xffffffffull) c.fail(sig->mark, "'vcpu_sig' must fit 32 bits");
    s.vcpu_sig = static_cast<std::uint32_t>(v);
    s.vcpu_type = "-";  // resolved: an explicit signature
  }
  if (const Node* g = m.opt("guest_features")) {
    s.guest_features = hex_u64(c, *g, "guest_features");
  } else {
    s.guest_features = ~0ull;  // resolved from measurements.snp
  }
  m.done();
  return s;
}

// Defaults from measurements.snp, once both sections are read.
void resolve_igvm(const Checker& c, Recipe& r) {
  IgvmSpec& s = r.outputs.igvm;
  const SnpSpec& snp = r.measurements.snp;
  if (!snp.present)
    c.fail(s.mark,
           "outputs.igvm needs measurements.snp: the IGVM file is built from its firmware, "
           "guest policy and kernel hashes");
  // QEMU boots the guest of the file with -kernel, -initrd and -append:
  // the direct-boot outputs, whose hashes the file may hold.
  if (!r.outputs.direct)
    c.fail(s.mark,
           "outputs.igvm needs outputs.direct: QEMU boots the IGVM guest with the kernel, "
           "initrd and cmdline outputs");
  if (s.vcpus.empty()) s.vcpus = snp.vcpus;
  if (s.vcpu_type.empty()) {
    if (const auto* t = only(snp.vcpu_types); t && snp.vcpu_sigs.empty()) {
      s.vcpu_type = *t;
      snp_vcpu_signature(*t, &s.vcpu_sig);
    } else if (const auto* g = only(snp.vcpu_sigs); g && snp.vcpu_types.empty()) {
      s.vcpu_sig = *g;
    } else {
      c.fail(s.mark,
             "outputs.igvm needs 'vcpu_type' or 'vcpu_sig': measurements.snp does not name "
             "exactly one vCPU type or signature to take it from");
    }
  }
  if (s.vcpu_type == "-") s.vcpu_type.clear();
  if (s.guest_features == ~0ull) {
    const auto* g = only(snp.guest_features);
    if (!g)
      c.fail(s.mark,
             "outputs.igvm needs 'guest_features': measurements.snp lists more than one value");
    s.guest_features = *g;
  }
}

}  // namespace mkguest::recipe
