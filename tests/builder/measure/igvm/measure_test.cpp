// IGVM launch measurements against two independent oracles:
//  - tests/builder/measure/igvm/igvm_model.py, a separate stdlib Python model
//    written from microsoft/igvm measurement/{snp,tdx}.rs and COCONUT's
//    igvmmeasure, on every test shape, each option;
//  - sev-snp-measure 0.0.13 (the golden values of tests/vectors/snp.txt): an
//    IGVM that mirrors QEMU's own OVMF launch (the OVMF pages, the SEV
//    metadata sections in order, one VMSA per vCPU), written by the
//    independent Python writer, measures to the digest sev-snp-measure gives
//    for that OVMF, vCPU count and type, with and without kernel hashes; and
//    the library's mirror (builder/formats/igvm/snp_launch) writes the same
//    bytes as the Python writer.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/error.h"
#include "base/file.h"
#include "builder/formats/igvm/snp_launch.h"
#include "builder/measure/igvm/measure.h"
#include "firmware/sev_metadata.h"
#include "firmware/snp_measure.h"
#include "tests/builder/formats/igvm/igvm_shapes.h"
#include "tests/snp_fixtures.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

const fs::path kModel = test::source_dir() / "tests/builder/measure/igvm/igvm_model.py";

nlohmann::json model(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/python3", kModel.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = test::run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("IGVM SNP digest and TDX MRTD equal the Python model's on every shape", "[igvm]") {
  const auto& s = test::igvm_shapes();
  int snp = 0, tdx = 0;
  for (const auto& e : fs::directory_iterator(s.path)) {
    INFO(e.path().filename());
    const Bytes b = read_file(e.path());
    const igvm::File f = igvm::parse_igvm(b, e.path().string());
    if (f.mask_of(igvm::kPlatformSevSnp)) {
      for (bool zero : {false, true}) {
        const auto m = igvm::measure_snp(f, {zero, false}, e.path().string());
        std::vector<std::string> args{"snp", e.path().string()};
        if (zero) args.push_back("--native-zero");
        const auto want = model(args);
        CHECK(to_hex(m.digest) == want["digest"].get<std::string>());
        CHECK(m.pages == want["pages"].get<std::uint64_t>());
        CHECK(m.vmsas == want["vmsas"].get<std::uint32_t>());
        ++snp;
      }
    }
    if (f.mask_of(igvm::kPlatformTdx)) {
      const auto m = igvm::measure_tdx(f, e.path().string());
      const auto want = model({"tdx", e.path().string()});
      CHECK(to_hex(m.digest) == want["digest"].get<std::string>());
      CHECK(m.pages == want["pages"].get<std::uint64_t>());
      ++tdx;
    }
  }
  CHECK(snp == 6);
  CHECK(tdx == 3);
}

TEST_CASE("IGVM measurement reports the policy, the ID block and page runs", "[igvm]") {
  const Bytes b = read_file(test::igvm_shapes().path / "snp-basic.igvm");
  const igvm::File f = igvm::parse_igvm(b, "snp-basic.igvm");
  const auto m = igvm::measure_snp(f, {}, "snp-basic.igvm");
  CHECK(m.guest_policy == 0x30000u);
  REQUIRE(m.id_block_ld.has_value());
  std::string ab;
  for (int i = 0; i < 48; ++i) ab += "ab";
  CHECK(to_hex(*m.id_block_ld) == ab);
  // 0x100000..0x103000 normal (the zero page measured as normal), then unmeasured...
  REQUIRE(m.ranges.size() >= 5);
  CHECK(m.ranges[0].gpa == 0x100000);
  CHECK(m.ranges[0].size == 0x3000);
  CHECK(m.ranges[0].type == "normal");
  CHECK(m.ranges[1].type == "unmeasured");
  CHECK(m.ranges[1].size == 0x2000);
  CHECK(m.ranges.back().type == "vmsa");
  const auto z = igvm::measure_snp(f, {true, false}, "snp-basic.igvm");
  CHECK(z.ranges[1].type == "zero");
  CHECK(z.digest != m.digest);
}

TEST_CASE("IGVM --check-kvm refuses what QEMU/KVM cannot load", "[igvm]") {
  const auto& s = test::igvm_shapes();
  const Bytes ok = read_file(s.path / "snp-basic.igvm");
  CHECK_NOTHROW(igvm::measure_snp(igvm::parse_igvm(ok, "a"), {false, true}, "a"));
  const Bytes multi = read_file(s.path / "multi.igvm");
  const igvm::File f = igvm::parse_igvm(multi, "multi.igvm");
  try {
    igvm::measure_snp(f, {false, true}, "multi.igvm");
    FAIL("no error");
  } catch (const InputError& e) {
    // The first SNP VMSA of multi.igvm is at GPA 0x5000.
    CHECK(std::string(e.what()).find("is not KVM's 0xfffffffff000") != std::string::npos);
  }
  CHECK_THROWS_AS(igvm::measure_tdx(igvm::parse_igvm(ok, "a"), "a"), InputError);
}

namespace {

struct Line {
  std::map<std::string, std::string> opt;
  std::string digest;
};

// The `--mode snp` QEMU lines of tests/vectors/snp.txt this mirror covers,
// including the "! mkguest" ones (firmware without SEV metadata, which
// `measure snp` refuses as QEMU does, but sev-snp-measure measures), and the
// sha256 of the Debian firmware the values are for.
std::vector<Line> snp_vectors(std::map<std::string, std::string>* debian_sha) {
  std::ifstream in(test::source_dir() / "tests/vectors/snp.txt");
  std::vector<Line> out;
  std::string l;
  const std::set<std::string> known{"--mode",     "--vcpus",         "--vcpu-type", "--vmm-type",
                                    "--ovmf",     "--kernel",        "--initrd",    "--append",
                                    "--vcpu-sig", "--guest-features"};
  while (std::getline(in, l)) {
    if (l.rfind("#   deb12_", 0) == 0) {
      std::istringstream w(l.substr(4));
      std::string name, word, sha;
      w >> name >> word >> sha;
      (*debian_sha)[name] = sha;
    }
    if (l.rfind("! mkguest: ", 0) == 0) l = l.substr(11);
    if (l.empty() || l[0] == '#') continue;
    const auto p1 = l.find(" | "), p2 = l.find(" | ", p1 + 3);
    if (l.substr(p1 + 3, p2 - p1 - 3) != "0") continue;
    Line v;
    std::istringstream words(l.substr(0, p1));
    std::string k, val;
    bool ok = true;
    while (words >> k >> val) {
      ok = ok && known.count(k);
      v.opt[k] = val == "@C" ? "console=ttyS0 root=/dev/vda1 ro" : val;
    }
    if (!ok || v.opt["--mode"] != "snp" ||
        (v.opt.count("--vmm-type") && v.opt["--vmm-type"] != "QEMU"))
      continue;
    v.digest = l.substr(p2 + 3);
    out.push_back(v);
  }
  return out;
}

}  // namespace

TEST_CASE("an IGVM mirroring QEMU's OVMF launch gives sev-snp-measure's digest", "[igvm][snp]") {
  test::TempDir d;
  test::write_snp_fixtures(d.path());
  const fs::path debian = test::source_dir() / ".cache/debian/OVMF";
  int checked = 0, with_hashes = 0, debian_lines = 0;
  std::set<std::string> firmwares, vcpus;
  std::map<std::string, std::string> debian_sha;
  const auto vectors = snp_vectors(&debian_sha);
  for (const auto& v : vectors) {
    std::string ovmf_name = v.opt.at("--ovmf");
    fs::path ovmf = d / ovmf_name;
    if (ovmf_name.rfind("deb12_", 0) == 0) {
      ovmf = debian / ovmf_name.substr(6);
      // measure snp's own test reports a missing input (skip_or_fail).
      if (!fs::exists(ovmf) || test::sha256_file(ovmf) != debian_sha[ovmf_name]) continue;
      ++debian_lines;
    }
    INFO(ovmf_name << " vcpus " << v.opt.at("--vcpus"));
    const Bytes fw_bytes = read_file(ovmf);
    const SevFirmware fw = parse_sev_firmware(ByteReader(fw_bytes, ovmf.string()));
    std::uint32_t sig = 0;
    if (v.opt.count("--vcpu-sig"))
      sig = static_cast<std::uint32_t>(std::stoul(v.opt.at("--vcpu-sig"), nullptr, 0));
    else
      REQUIRE(snp_vcpu_signature(v.opt.at("--vcpu-type"), &sig));
    const std::uint64_t features =
        v.opt.count("--guest-features") ? std::stoull(v.opt.at("--guest-features"), nullptr, 0) : 1;
    std::optional<SevHashes> hashes;
    if (v.opt.count("--kernel")) {
      const Bytes k = read_file(d / v.opt.at("--kernel"));
      const Bytes rd = v.opt.count("--initrd") ? read_file(d / v.opt.at("--initrd")) : Bytes();
      hashes = sev_hashes(k, rd, v.opt.count("--append") ? v.opt.at("--append") : "");
      ++with_hashes;
    }
    // The mirror: what QEMU and KVM put into the guest, as IGVM directives.
    nlohmann::json dirs = nlohmann::json::array();
    dirs.push_back({{"kind", "pages"},
                    {"gpa", 0x100000000ull - fw_bytes.size()},
                    {"mask", 1},
                    {"file", ovmf.string()},
                    {"size", fw_bytes.size()}});
    auto pages = [&](std::uint64_t gpa, std::uint64_t size, int data_type) {
      for (std::uint64_t o = 0; o < size; o += 4096)
        dirs.push_back({{"kind", "page"},
                        {"gpa", gpa + o},
                        {"mask", 1},
                        {"data_type", data_type},
                        {"data", nullptr}});
    };
    for (const auto& s : fw.sections) {
      switch (s.type) {
        case SevSectionType::kSnpSecMem:
        case SevSectionType::kSvsmCaa:
          pages(s.gpa, s.size, 0);  // ZERO pages with --native-zero
          break;
        case SevSectionType::kSnpSecrets:
          pages(s.gpa, 4096, 1);
          break;
        case SevSectionType::kCpuid:
          pages(s.gpa, 4096, 2);
          break;
        case SevSectionType::kSnpKernelHashes:
          if (hashes) {
            Bytes page(4096, 0);
            const Bytes table = sev_hashes_table(*hashes);
            std::copy(table.begin(), table.end(), page.begin() + (*fw.hash_table_gpa & 0xfff));
            dirs.push_back(
                {{"kind", "page"}, {"gpa", s.gpa}, {"mask", 1}, {"data", {{"hex", to_hex(page)}}}});
          } else {
            pages(s.gpa, s.size, 0);
          }
          break;
      }
    }
    const std::uint32_t n = static_cast<std::uint32_t>(std::stoul(v.opt.at("--vcpus")));
    if (n > 1) REQUIRE(fw.reset_eip.has_value());
    for (std::uint32_t i = 0; i < n; ++i) {
      const Bytes vmsa =
          snp_vmsa(i == 0 ? 0xfffffff0u : *fw.reset_eip, features, sig, VmmType::kQemu);
      dirs.push_back({{"kind", "vp_context"},
                      {"gpa", 0xFFFFFFFFF000ull},
                      {"mask", 1},
                      {"vp_index", i},
                      {"data", {{"hex", to_hex(vmsa)}}}});
    }
    const nlohmann::json spec = {
        {"platforms", {{{"type", "sev-snp"}, {"mask", 1}}}},
        {"initializations", {{{"kind", "guest_policy"}, {"policy", 0x30000}, {"mask", 1}}}},
        {"directives", dirs}};
    test::write_text(d / "mirror.json", spec.dump());
    const auto r = test::run({"/usr/bin/python3", test::kIgvmWriter.string(), "spec",
                              (d / "mirror.json").string(), (d / "mirror.igvm").string()});
    REQUIRE(r.exit_code == 0);
    const Bytes igvm_bytes = read_file(d / "mirror.igvm");
    const igvm::File f = igvm::parse_igvm(igvm_bytes, "mirror.igvm");
    const auto m = igvm::measure_snp(f, {true, false}, "mirror.igvm");
    CHECK(to_hex(m.digest) == v.digest);
    // The library's own mirror writes the same bytes.
    SnpInputs in;
    in.vcpus = n;
    in.vcpu_sig = sig;
    in.guest_features = features;
    in.hashes = hashes;
    CHECK(igvm::snp_launch_igvm(fw_bytes, fw, in, 0x30000, ovmf_name) == igvm_bytes);
    firmwares.insert(ovmf_name);
    vcpus.insert(v.opt.at("--vcpus"));
    ++checked;
  }
  CHECK(checked >= 40);
  CHECK(with_hashes >= 10);
  CHECK(firmwares.size() >= 3);
  CHECK(vcpus.size() >= 2);
  if (debian_lines == 0)
    WARN("Debian's OVMF not fetched: the mirror covered the synthetic firmware only");
  else
    CHECK(firmwares.size() >= 5);
}
