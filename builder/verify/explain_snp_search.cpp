// The SNP neighbourhood search (explain_snp_search.h): combinations of launch
// parameters on a small pool of threads, each walking the vCPU count upwards
// one VMSA page at a time.
#include "builder/verify/explain_snp_search.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/byte_writer.h"

namespace mkguest::attest {
namespace {

constexpr std::uint64_t kVmsaGpa = 0xFFFFFFFFF000ull;
constexpr std::uint8_t kPageTypeVmsa = 2;
constexpr std::uint32_t kBspEip = 0xFFFFFFF0;  // the reset vector

struct Combo {
  VmmType vmm;
  std::uint32_t sig;
  std::uint64_t features;
  bool hashes;
};

}  // namespace

const char* vmm_name(VmmType v) {
  switch (v) {
    case VmmType::kEc2:
      return "ec2";
    case VmmType::kGce:
      return "gce";
    case VmmType::kQemu:
      break;
  }
  return "QEMU";
}

SnpSearchSpace default_snp_search_space() {
  SnpSearchSpace s;
  s.vmms = {VmmType::kQemu, VmmType::kEc2, VmmType::kGce};
  std::set<std::uint32_t> sigs;
  for (const auto& t : snp_vcpu_types()) {
    std::uint32_t sig = 0;
    if (snp_vcpu_signature(t, &sig)) sigs.insert(sig);
  }
  s.vcpu_sigs.assign(sigs.begin(), sigs.end());
  s.guest_features = {0x1, 0x21, 0x5, 0x25, 0x9, 0x29, 0x41, 0x61, 0x201, 0x221};
  return s;
}

Bytes snp_add_vmsa_page(std::span<const std::uint8_t> ld, std::span<const std::uint8_t> vmsa) {
  return snp_add_vmsa_digest(ld, digest(HashAlg::kSha384, vmsa));
}

Bytes snp_add_vmsa_digest(std::span<const std::uint8_t> ld,
                          std::span<const std::uint8_t> vmsa_sha384) {
  ByteWriter w;
  w.append(ld);
  w.append(vmsa_sha384);
  w.le16(0x70);
  w.u8(kPageTypeVmsa);
  w.u8(0);    // IMI_PAGE
  w.le32(0);  // VMPL3, VMPL2, VMPL1 permissions, reserved
  w.le64(kVmsaGpa);
  return digest(HashAlg::kSha384, w.bytes());
}

std::vector<SnpLaunchParams> search_snp_measurement(std::span<const std::uint8_t> ovmf,
                                                    const SevFirmware& fw, const Bytes& ovmf_hash,
                                                    const SnpSearchSpace& space,
                                                    std::span<const std::uint8_t> target,
                                                    const std::string& firmware_name,
                                                    unsigned threads) {
  std::vector<Combo> combos;
  const bool can_hash = space.hashes && fw.has_section(SevSectionType::kSnpKernelHashes);
  for (const VmmType vmm : space.vmms)
    for (const std::uint32_t sig :
         vmm == VmmType::kQemu ? space.vcpu_sigs : std::vector<std::uint32_t>{0})
      for (const std::uint64_t f : space.guest_features)
        for (const bool h : {false, true})
          if (!h || can_hash) combos.push_back({vmm, sig, f, h});
  if (!fw.reset_eip || space.max_vcpus == 0) return {};
  const Bytes want(target.begin(), target.end());
  // The state after the OVMF pages (ovmf_hash) and the metadata sections,
  // before any VMSA: it depends only on the VMM and the kernel hashes, so it
  // is computed once for each of those (snp_launch_digest with no vCPU), and
  // every combination costs only its VMSA pages.
  std::map<std::pair<VmmType, bool>, Bytes> prefix;
  for (const Combo& c : combos) {
    auto& p = prefix[{c.vmm, c.hashes}];
    if (!p.empty()) continue;
    SnpInputs in;
    in.vmm = c.vmm;
    in.vcpus = 0;
    in.ovmf_hash = ovmf_hash;
    if (c.hashes) in.hashes = space.hashes;
    p = snp_launch_digest(ovmf, fw, in, firmware_name);
  }
  std::vector<std::vector<SnpLaunchParams>> found(combos.size());
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto worker = [&] {
    try {
      for (std::size_t i = next++; i < combos.size(); i = next++) {
        const Combo& c = combos[i];
        Bytes ld = snp_add_vmsa_page(prefix.at({c.vmm, c.hashes}),
                                     snp_vmsa(kBspEip, c.features, c.sig, c.vmm));
        const Bytes ap =
            digest(HashAlg::kSha384, snp_vmsa(*fw.reset_eip, c.features, c.sig, c.vmm));
        for (std::uint32_t n = 1;; ++n) {
          if (ld == want) found[i].push_back({c.vmm, n, c.sig, c.features, c.hashes});
          if (n == space.max_vcpus) break;
          ld = snp_add_vmsa_digest(ld, ap);
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      next = combos.size();
    }
  };
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, combos.size()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  std::vector<SnpLaunchParams> out;
  for (auto& f : found) out.insert(out.end(), f.begin(), f.end());
  return out;
}

}  // namespace mkguest::attest
