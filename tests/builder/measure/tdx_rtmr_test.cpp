// TDX RTMR predictions against independent values (tests/vectors/tdx/README.md):
// TD HOB digests for five RAM sizes, the kernel as QEMU hands it to TDVF
// (setup-header edits), RTMR1 and RTMR2 of a Debian 12 kernel with and
// without an initrd under an old (edk2 202408) and a new (edk2 202508)
// profile; and a CCEL log made from a prediction replays to the predicted
// registers, with one altered event reported at that event.
#include <catch2/catch.hpp>

#include "base/file.h"
#include "builder/formats/pe/authenticode.h"
#include "builder/measure/tdx.h"
#include "firmware/ccel.h"
#include "firmware/tdvf.h"
#include "firmware/tdx_events.h"
#include "firmware/tdx_profile.h"
#include "tests/tdx_fixture.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

fs::path ovmf_path, kernel_path;

// The pinned Debian inputs the vectors were computed from (skipped otherwise).
bool have_debian() {
  std::string why;
  ovmf_path = test::tdx::debian_ovmf(&why);
  if (!ovmf_path.empty()) kernel_path = test::tdx::debian_kernel(&why);
  if (ovmf_path.empty() || kernel_path.empty()) {
    test::skip_or_fail(why);
    return false;
  }
  return true;
}

Bytes test_initrd() { return test::tdx::synthetic_initrd(); }

}  // namespace

TEST_CASE("TD HOB digests and the QEMU-edited kernel equal the independent values", "[tdx]") {
  if (!have_debian()) return;
  const Bytes fw = read_file(ovmf_path);
  const tdx::TdvfMetadata md = tdx::parse_tdvf(fw, "OVMF.fd");
  const std::vector<std::pair<std::uint64_t, const char*>> hobs = {
      {0x40000000,
       "1055c9b9a1fc534e688560e2304e18c8597b7261818cf61fb163d40c130547309b750575947a4dcaedbdce4b8d0"
       "535f2"},
      {0x80000000,
       "0b8772e5b0b41b83e6044a68397e02f49fb47066b4fbe4917ea2c45c64f323fdacbb37948f821ebaf8bc9c938ba"
       "8a749"},
      {0xb0000000,
       "8eb1a02074362aa0761541cdb4dc3f1788dfeb4538803b241477848e26de294dbe917ab56c5628732679b3abc16"
       "8c2de"},
      {0x100000000,
       "5b684faf8d02a733945f821d9cdd170802e72103977acf66949c9382500283adc90cbec57f8e7653f8bee1cab83"
       "689de"},
      {0x400000000,
       "cd2312a0d87ef3c4a928df87088969a80b33d7bf3fc584bdde637b09ed808a8d821a56b78a13a6eb506db757844"
       "4abbe"}};
  for (const auto& [ram, want] : hobs) {
    INFO("RAM " << ram);
    CHECK(to_hex(digest(HashAlg::kSha384, tdx::td_hob(md, ram))) == want);
  }
  const Bytes k = read_file(kernel_path);
  CHECK(to_hex(pe::authenticode_digest(k, "vmlinuz", HashAlg::kSha384)) ==
        "85ac7473fe81fb47666a5c08d32d8e7a62af347ddae9567dff0781f954a9b06670accfcfa714830329b1e45cfa"
        "9e541c");
  const std::vector<std::tuple<std::uint64_t, std::uint64_t, const char*>> patched = {
      {0x40000000, 0,
       "a1544cf639a5c406b9598e4a2ba6db2d46a9129ba009d3c17b2f9229bd319a56baf1f1fe4b8beef812373a73e34"
       "66551"},
      {0x40000000, 1048576,
       "91ece66e06573e7ed62f1902a45128245b7e0e21a958e36824ba3e52ee1d8f623a72fb01fa51827f5f0990a446e"
       "c924b"},
      {0x400000000, 0,
       "a1544cf639a5c406b9598e4a2ba6db2d46a9129ba009d3c17b2f9229bd319a56baf1f1fe4b8beef812373a73e34"
       "66551"},
      {0x400000000, 1048576,
       "049cc0fcb1ea19b799cba260167b2fce7c347282a95ff2bf4d6a15e0f0056004f7ba59a8d22c9ab9874e59b0822"
       "b9113"}};
  for (const auto& [ram, isz, want] : patched) {
    INFO("RAM " << ram << " initrd " << isz);
    const Bytes p = tdx::qemu_patch_kernel(k, ram, isz, "vmlinuz");
    CHECK(to_hex(pe::authenticode_digest(p, "vmlinuz", HashAlg::kSha384)) == want);
  }
}

TEST_CASE("RTMR1 and RTMR2 of a Debian kernel equal the independent values", "[tdx]") {
  if (!have_debian()) return;
  const Bytes fw = read_file(ovmf_path);
  const Bytes k = read_file(kernel_path);
  const Bytes initrd = test_initrd();
  struct Case {
    const char* profile;
    bool with_initrd;
    const char* rtmr1;
    const char* rtmr2;
  };
  const Case cases[] = {
      {"edk2-202408-qemu8", false,
       "cdb6f47f34262c2c1a441841f42a354e6d91298cdec4263ee1680232f455937f223e819d2a272622a488b4fa819"
       "83398",
       "e79bae412db92bc70261d37f34a075628849615a61ae49f01cb136efa09d648abd975f340e02b975360c8a7ff28"
       "64ee9"},
      {"edk2-202408-qemu8", true,
       "40740670e1ffb8d7738b4d92b66fe01f84a709f24cc7bb132771e8e954460e6a799724b9ddfcf626c5d6e7f4650"
       "f22f7",
       "c6250c45cc9763e30362d7fdbf64c9c23ba1a24a136cfdac766b94d8f9cd3410eb660319f9ecf29c753704ca9b1"
       "68eba"},
      {"edk2-202508-qemu10.2", false,
       "7c8fc1156aa7d170c971af918b68aa22cda486113fbf513d3031b2dc792fc78a6c534d8382b9205b16b2aa2d16b"
       "6557c",
       "e79bae412db92bc70261d37f34a075628849615a61ae49f01cb136efa09d648abd975f340e02b975360c8a7ff28"
       "64ee9"},
      {"edk2-202508-qemu10.2", true,
       "7c8fc1156aa7d170c971af918b68aa22cda486113fbf513d3031b2dc792fc78a6c534d8382b9205b16b2aa2d16b"
       "6557c",
       "5685a8573b857a6bc1969892c0f3f6f6251d95b395b536924f4f7013d96773d8bd94471be7c1158ea0bc267f3fb"
       "e2d33"},
  };
  for (const auto& c : cases) {
    INFO(c.profile << (c.with_initrd ? " with initrd" : " without initrd"));
    tdx::BootInputs in;
    in.firmware = fw;
    in.kernel = std::span<const std::uint8_t>(k);
    if (c.with_initrd) in.initrd = std::span<const std::uint8_t>(initrd);
    in.append = "console=ttyS0 root=/dev/vda1 ro";
    in.ram = 2ull << 30;
    const tdx::Prediction p = tdx::predict(in, tdx::builtin_profile(c.profile));
    CHECK(to_hex(p.rtmr[1]) == c.rtmr1);
    CHECK(to_hex(p.rtmr[2]) == c.rtmr2);
  }
}

TEST_CASE("a CCEL log made from a prediction replays to it, an altered event is named",
          "[tdx][ccel]") {
  if (!have_debian()) return;
  const Bytes fw = read_file(ovmf_path);
  const Bytes k = read_file(kernel_path);
  const Bytes initrd = test_initrd();
  tdx::BootInputs in;
  in.firmware = fw;
  in.kernel = std::span<const std::uint8_t>(k);
  in.initrd = std::span<const std::uint8_t>(initrd);
  in.append = "console=ttyS0";
  const tdx::Prediction p = tdx::predict(in, tdx::builtin_profile("edk2-202411-qemu9"));
  const Bytes log = tdx::write_ccel(p.events);
  const tdx::CcelLog parsed = tdx::parse_ccel(log, "ccel.bin");
  const auto regs = tdx::replay_ccel(parsed, "ccel.bin");
  for (int r = 0; r < 3; ++r) CHECK(to_hex(regs[r]) == to_hex(p.rtmr[r]));
  CHECK(tdx::compare_ccel(parsed, p.events).empty());
  // Alter one RTMR2 event (the initrd's digest): the comparison names it.
  std::vector<tdx::Event> altered = p.events;
  std::size_t victim = altered.size(), index_in_rtmr = 0;
  std::size_t seen = 0;
  for (std::size_t i = 0; i < altered.size(); ++i) {
    if (altered[i].rtmr != 2) continue;
    victim = i;
    index_in_rtmr = seen++;
  }
  REQUIRE(victim < altered.size());
  altered[victim].digest[0] ^= 0xff;
  const tdx::CcelLog bad = tdx::parse_ccel(tdx::write_ccel(altered), "bad.bin");
  const auto diffs = tdx::compare_ccel(bad, p.events);
  REQUIRE(!diffs.empty());
  CHECK(diffs[0].rtmr == 2);
  CHECK(diffs[0].index_in_rtmr == index_in_rtmr);
  CHECK(diffs[0].log_offset != 0);
  CHECK(to_hex(tdx::replay_ccel(bad, "bad.bin")[2]) != to_hex(p.rtmr[2]));
}
