// TDVF metadata parsing and MRTD (firmware/tdvf.h). Debian vectors: see
// tests/vectors/tdx/README.md for the reference tools and commands.
#include <catch2/catch.hpp>

#include "base/error.h"
#include "base/file.h"
#include "firmware/tdvf.h"
#include "tests/tdx_fixture.h"

using namespace mkguest;
using namespace mkguest::tdx;
namespace fx = mkguest::test::tdx;

namespace {

std::string error_of(const std::vector<std::uint8_t>& img) {
  try {
    parse_tdvf(img, "fw.fd");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::uint8_t> with_section(fx::SynthSection s) {
  auto secs = fx::default_sections();
  secs.push_back(s);
  return fx::synth_tdvf(secs);
}

}  // namespace

TEST_CASE("TDVF metadata is found through the OVMF footer table", "[tdx]") {
  const auto img = fx::synth_tdvf(fx::default_sections());
  const auto md = parse_tdvf(img, "fw.fd");
  CHECK(md.descriptor_offset == 0xF000);
  CHECK_FALSE(md.from_legacy_pointer);
  REQUIRE(md.sections.size() == 4);
  CHECK(md.sections[0].type == SectionType::kBfv);
  CHECK(md.sections[0].gpa == 0xFFFFC000);
  CHECK(md.sections[1].type == SectionType::kCfv);
  CHECK(md.sections[2].type == SectionType::kTdHob);
  CHECK(md.sections[3].entry_offset == 0xF000 + 16 + 3 * 32);
}

TEST_CASE("TDVF legacy pointer is used only without a footer table", "[tdx]") {
  const auto img = fx::synth_tdvf(fx::default_sections(), true);
  const auto md = parse_tdvf(img, "fw.fd");
  CHECK(md.from_legacy_pointer);
  CHECK(md.descriptor_offset == 0xF000);
  // A table without a TDX entry is an error, not a fallback to the legacy pointer.
  auto t = fx::synth_tdvf(fx::default_sections());
  t[0x10000 - 0x20 - 18 - 22 + 6] ^= 0xFF;  // corrupt the TDX entry GUID
  CHECK_THAT(error_of(t), Catch::Contains("footer table has no TDX metadata entry"));
}

TEST_CASE("TDVF parser rejects bad metadata with the offset", "[tdx]") {
  // BFV data past the end of the file (the bookworm OVMF_CODE.fd case).
  CHECK_THAT(
      error_of(with_section({0xF000, 0x2000, 0x1000000, 0x2000, 0, 1})),
      Catch::Contains("fw.fd:0xf090: error:") && Catch::Contains("outside the 0x10000-byte image"));
  // Types QEMU refuses (PAYLOAD = 5, TD_INFO = 7).
  CHECK_THAT(error_of(with_section({0, 0, 0x900000, 0x1000, 5, 0})),
             Catch::Contains("fw.fd:0xf0a8: error: TDVF section type 5 is not accepted by QEMU"));
  CHECK_THAT(error_of(with_section({0, 0, 0x900000, 0x1000, 7, 0})), Catch::Contains("type 7"));
  CHECK_THAT(error_of(with_section({0, 0, 0x900000, 0x1000, 3, 2})), Catch::Contains("PAGE.AUG"));
  CHECK_THAT(error_of(with_section({0, 0, 0x900800, 0x1000, 3, 0})),
             Catch::Contains("0xf098") && Catch::Contains("not 4 KiB aligned"));
  CHECK_THAT(error_of(with_section({0, 0, 0x900000, 0x1800, 3, 0})),
             Catch::Contains("memory size"));
  CHECK_THAT(error_of(with_section({0, 0x2000, 0x900000, 0x1000, 1, 0})),
             Catch::Contains("raw size exceeds memory size"));
  CHECK_THAT(error_of(with_section({0x100, 0x10, 0x900000, 0x1000, 3, 0})),
             Catch::Contains("must not carry file data"));
  // A resource limit: MRTD hashes a record per page, so 2^40 pages of
  // temporary memory would never finish.
  CHECK_THAT(error_of(with_section({0, 0, 0x900000, 1ull << 52, 3, 0})),
             Catch::Contains("fw.fd:0xf0a0: error: TDVF TEMP_MEM section 4") &&
                 Catch::Contains("more than 4 GiB of memory"));
  // MR.EXTEND over 4 GiB took 34 s before failing without a file name: an
  // extended section over 256 MiB fails at once, at its offset.
  CHECK_THAT(error_of(with_section({0xE000, 0x1000, 0x80000000, 0xF0000000, 1, 1})),
             Catch::Contains("fw.fd:0xf0a0: error: TDVF CFV section 4") &&
                 Catch::Contains("MR.EXTEND sections declare more than 256 MiB"));
  CHECK(error_of(with_section({0xE000, 0x1000, 0x80000000, 0x1000000, 1, 1})).empty());
  auto sig = fx::synth_tdvf(fx::default_sections());
  sig[0xF000] = 'X';
  CHECK_THAT(error_of(sig), Catch::Contains("fw.fd:0xf000: error: TDVF descriptor signature"));
  auto ver = fx::synth_tdvf(fx::default_sections());
  ver[0xF008] = 2;
  CHECK_THAT(error_of(ver), Catch::Contains("0xf008") && Catch::Contains("version 2"));
  auto guid = fx::synth_tdvf(fx::default_sections());
  guid[0xEFF0] ^= 1;
  CHECK_THAT(error_of(guid), Catch::Contains("0xeff0") && Catch::Contains("TDX metadata GUID"));
  std::vector<std::uint8_t> tiny(16, 0);
  CHECK_FALSE(error_of(tiny).empty());
}

TEST_CASE("MRTD page orders differ only for MR.EXTEND sections", "[tdx]") {
  const auto img = fx::synth_tdvf(fx::default_sections());
  const auto md = parse_tdvf(img, "fw.fd");
  const auto single = compute_mrtd(img, md, PageOrder::kSinglePass);
  const auto two = compute_mrtd(img, md, PageOrder::kTwoPass);
  CHECK(single.size() == 48);
  CHECK(single != two);
  // Changing a byte of a measured section changes MRTD; of the CFV (not measured) does not.
  auto img2 = img;
  img2[0x4000 + 0x123] ^= 1;
  CHECK(compute_mrtd(img2, md, PageOrder::kSinglePass) != single);
  auto img3 = img;
  img3[0x123] ^= 1;
  CHECK(compute_mrtd(img3, md, PageOrder::kSinglePass) == single);
  // Without any MR.EXTEND section both orders are the same record stream.
  auto secs = fx::default_sections();
  secs[0].attributes = 0;
  const auto img4 = fx::synth_tdvf(secs);
  const auto md4 = parse_tdvf(img4, "fw.fd");
  CHECK(compute_mrtd(img4, md4, PageOrder::kSinglePass) ==
        compute_mrtd(img4, md4, PageOrder::kTwoPass));
}

TEST_CASE("Debian 12 OVMF.fd: TDVF sections and MRTD for both orders", "[tdx][debian]") {
  std::string why;
  const auto path = fx::debian_ovmf(&why);
  if (path.empty()) {
    test::skip_or_fail(why);
    return;
  }
  MappedFile fw(path);
  const auto md = parse_tdvf(fw.bytes(), path.string());
  CHECK(md.descriptor_offset == 0x1ff7c0);
  REQUIRE(md.sections.size() == 6);
  struct Want {
    SectionType t;
    std::uint32_t off, raw;
    std::uint64_t gpa, size;
    std::uint32_t attr;
  };
  const Want want[] = {{SectionType::kBfv, 0x20000, 0x1e0000, 0xffe20000, 0x1e0000, 1},
                       {SectionType::kCfv, 0, 0x20000, 0xffe00000, 0x20000, 0},
                       {SectionType::kTempMem, 0, 0, 0x810000, 0x10000, 0},
                       {SectionType::kTempMem, 0, 0, 0x80b000, 0x2000, 0},
                       {SectionType::kTdHob, 0, 0, 0x809000, 0x2000, 0},
                       {SectionType::kTempMem, 0, 0, 0x800000, 0x6000, 0}};
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(md.sections[i].type == want[i].t);
    CHECK(md.sections[i].data_offset == want[i].off);
    CHECK(md.sections[i].raw_size == want[i].raw);
    CHECK(md.sections[i].gpa == want[i].gpa);
    CHECK(md.sections[i].memory_size == want[i].size);
    CHECK(md.sections[i].attributes == want[i].attr);
  }
  // Fraunhofer calculate-tdx-mrs -q 9.2.0 / -q 8.2.2 and ref_tdx.py agree (README.md).
  CHECK(to_hex(compute_mrtd(fw.bytes(), md, PageOrder::kSinglePass)) ==
        "4c7206f0f483c524f12c366c711e9049030a8d47c471ee5aa9c4999a08de4057fb887fed0744d5631a212967fb"
        "231c47");
  CHECK(to_hex(compute_mrtd(fw.bytes(), md, PageOrder::kTwoPass)) ==
        "acccbcc870a381adab0d3919d90a7f268ac3b0364771f202ed4bb4e892d045b33db3b32e6924cba830a724eed4"
        "43f7e1");
}

TEST_CASE("Debian 12 OVMF_CODE.fd is rejected: its BFV lies past the end", "[tdx][debian]") {
  const auto p = test::source_dir() / ".cache/debian/root/ovmf/usr/share/OVMF/OVMF_CODE.fd";
  if (!std::filesystem::exists(p)) {
    test::skip_or_fail("OVMF_CODE.fd missing: run scripts/fetch-tdx-inputs");
    return;
  }
  MappedFile fw(p);
  try {
    parse_tdvf(fw.bytes(), "OVMF_CODE.fd");
    FAIL("accepted");
  } catch (const InputError& e) {
    CHECK_THAT(std::string(e.what()),
               Catch::Contains("OVMF_CODE.fd:0x") && Catch::Contains("outside"));
  }
}
