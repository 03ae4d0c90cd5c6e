// The strict IGVM reader against files written by an independent writer
// (tests/builder/formats/igvm/igvm_writer.py, stdlib Python from igvm_defs),
// and malformed files rejected with the absolute offset of the bad field.
#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>

#include "base/byte_writer.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/formats/igvm/reader.h"
#include "tests/builder/formats/igvm/igvm_shapes.h"

using namespace mkguest;
using namespace mkguest::igvm;

namespace {

// A copy of `b` with a little-endian field changed and the CRC fixed, so
// that the check under test is the one that fires.
Bytes patch(Bytes b, std::size_t off, std::uint64_t v, std::size_t width, bool fix_crc = true) {
  for (std::size_t i = 0; i < width; ++i) b[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
  if (fix_crc) {
    const std::uint32_t rev = test::load_le32(b.data() + kFhVersion);
    const std::size_t fixed = rev == 2 ? kFixedHeaderSizeV2 : kFixedHeaderSizeV1;
    store_le32(b.data() + kFhChecksum,
               header_checksum(b, fixed, test::load_le32(b.data() + kFhVarOffset),
                               test::load_le32(b.data() + kFhVarSize)));
  }
  return b;
}

std::string error_of(const Bytes& b) {
  try {
    parse_igvm(b, "t.igvm");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

// The absolute offset of the first directive of `type`.
std::uint64_t first(const File& f, std::uint32_t type) {
  for (const auto& h : f.directives)
    if (h.type == type) return h.offset;
  FAIL("no such directive");
  return 0;
}

}  // namespace

TEST_CASE("IGVM reader reads every shape the independent writer makes", "[igvm]") {
  const auto& s = test::igvm_shapes();
  const Bytes snp = read_file(s.path / "snp-basic.igvm");
  const File f = parse_igvm(snp, "snp-basic.igvm");
  CHECK(f.revision == 1);
  REQUIRE(f.platforms.size() == 1);
  CHECK(f.platforms[0].platform_type == kPlatformSevSnp);
  CHECK(f.mask_of(kPlatformSevSnp) == 1u);
  REQUIRE(f.initializations.size() == 1);
  CHECK(f.initializations[0].policy == 0x30000);
  REQUIRE(f.directives.size() == 16);
  const Header& p0 = f.directives[0];
  CHECK(p0.type == kVhtPageData);
  CHECK(p0.gpa == 0x100000);
  CHECK(p0.compatibility_mask == 3);
  REQUIRE(p0.data.size() == kPageSize);
  CHECK(p0.data[0] == ((0 * 131 + 1 * 17 + 5) & 0xff));
  CHECK(f.directives[2].data.empty());
  CHECK(f.directives[3].flags == kPageFlagUnmeasured);
  CHECK(f.directives[5].data_type == kPageSecrets);
  CHECK(f.directives[8].flags == kPageFlagShared);
  CHECK(f.directives[9].type == kVhtParameterArea);
  CHECK(f.directives[9].size == 0x2000);
  CHECK(f.directives[11].byte_offset == 0x100);
  CHECK(f.directives[12].type == kVhtParameterInsert);
  CHECK(f.directives[12].size == 0x2000);
  CHECK(f.directives[14].type == kVhtVpContext);
  CHECK(f.directives[14].gpa == 0xFFFFFFFFF000ull);
  CHECK(f.directives[14].platform_type == kPlatformSevSnp);
  CHECK(f.directives[14].data.size() == kPageSize);
  CHECK(f.directives[15].type == kVhtSnpIdBlock);

  const File multi = parse_igvm(read_file(s.path / "multi.igvm"), "multi.igvm");
  CHECK(multi.platforms.size() == 3);
  CHECK(multi.platform_of(4) == kPlatformNative);

  const File r2 = parse_igvm(read_file(s.path / "rev2-2m.igvm"), "rev2-2m.igvm");
  CHECK(r2.revision == 2);
  CHECK(r2.architecture == Architecture::kX64);
  REQUIRE(r2.directives.size() == 4);
  CHECK(r2.directives[0].flags == kPageFlag2M);
  CHECK_FALSE(r2.directives[2].known);  // optional, unknown: skipped
  CHECK(r2.directives[2].optional);
}

TEST_CASE("IGVM checksum is the CRC-32 the independent writer wrote", "[igvm]") {
  // igvm_writer.py computes it with Python's zlib.crc32 over the same bytes.
  for (const char* name : {"snp-basic", "tdx-basic", "multi", "rev2-2m"}) {
    const Bytes b = read_file(test::igvm_shapes().path / (std::string(name) + ".igvm"));
    const File f = parse_igvm(b, name);
    CHECK(header_checksum(b, f.revision == 2 ? 32 : 24, f.variable_header_offset,
                          f.variable_header_size) == test::load_le32(b.data() + kFhChecksum));
  }
}

TEST_CASE("malformed IGVM files are rejected with the offset of the bad field", "[igvm]") {
  const Bytes b = read_file(test::igvm_shapes().path / "snp-basic.igvm");
  const File f = parse_igvm(b, "t.igvm");
  const std::uint64_t page = first(f, kVhtPageData);
  const std::uint64_t insert = first(f, kVhtParameterInsert);
  const std::uint64_t vp = first(f, kVhtVpContext);
  auto has = [](const std::string& e, const std::string& want) {
    INFO(e);
    CHECK(e.find(want) != std::string::npos);
  };
  auto at = [](std::uint64_t off) {
    std::ostringstream s;
    s << "t.igvm:0x" << std::hex << off << ": error: ";
    return s.str();
  };
  has(error_of(Bytes(b.begin(), b.begin() + 10)), "t.igvm:0x0: error: the IGVM fixed header");
  has(error_of(patch(b, 0, 0x4d564748, 4, false)), "t.igvm:0x0: error: not an IGVM file");
  has(error_of(patch(b, 4, 3, 4)), "t.igvm:0x4: error: IGVM format version 3");
  has(error_of(patch(b, 16, b.size() + 1, 4)), "t.igvm:0x10: error: total_file_size");
  has(error_of(patch(b, 20, 0x12345678, 4, false)), "t.igvm:0x14: error: checksum 0x12345678");
  has(error_of(patch(b, 8, 12, 4)), "t.igvm:0x8: error: variable_header_offset");
  has(error_of(patch(b, 12, b.size(), 4)), "t.igvm:0xc: error: the variable header");
  // The first platform header's length; its mask; its platform type.
  has(error_of(patch(b, f.variable_header_offset + 4, 24, 4)),
      "IGVM_VHT_SUPPORTED_PLATFORM: length 24 (expected 16)");
  has(error_of(patch(b, f.variable_header_offset + 8, 3, 4)),
      at(f.variable_header_offset + 8) + "IGVM_VHT_SUPPORTED_PLATFORM: compatibility mask");
  has(error_of(patch(b, f.variable_header_offset, 0x2ff, 4)),
      "unknown variable header type 0x2ff without the optional bit");
  // Page data: an unaligned GPA, a zero mask, a reference into the headers, bad flags.
  has(error_of(patch(b, page + 8, 0x100001, 8)), at(page + 8) + "IGVM_VHT_PAGE_DATA: page GPA");
  has(error_of(patch(b, page + 16, 0, 4)), at(page + 16) + "IGVM_VHT_PAGE_DATA: compatibility");
  has(error_of(patch(b, page + 20, 0x10, 4)), at(page + 20) + "IGVM_VHT_PAGE_DATA: file offset");
  has(error_of(patch(b, page + 20, b.size() - 100, 4)), "runs past the end of the file");
  has(error_of(patch(b, page + 24, 0x8, 4)), at(page + 24) + "IGVM_VHT_PAGE_DATA: unknown flags");
  has(error_of(patch(b, page + 28, 4, 2)), "unknown page data type 4");
  has(error_of(patch(b, page + 30, 1, 2)), "reserved must be zero");
  // A parameter insert of an area never declared; a VP context with a mask of two platforms.
  has(error_of(patch(b, insert + 20, 7, 4)),
      at(insert + 20) + "IGVM_VHT_PARAMETER_INSERT: inserts");
  has(error_of(patch(b, vp + 16, 3, 4)), at(vp + 16) + "IGVM_VHT_VP_CONTEXT: the mask is not");
  // Section order: the second directive turned into a guest policy.
  has(error_of(patch(b, f.directives[1].offset, kVhtGuestPolicy, 4)),
      at(f.directives[1].offset) +
          "IGVM_VHT_GUEST_POLICY: a header of the initialization section after directive headers");
  has(error_of(patch(b, f.directives[1].offset, kVhtSupportedPlatform, 4)),
      "a header of the platform section after directive headers");
}

TEST_CASE("IGVM reader reads a VBS VP context as its register list", "[igvm]") {
  const Bytes b = read_file(test::igvm_shapes().path / "vsm.igvm");
  const File f = parse_igvm(b, "vsm.igvm");
  REQUIRE(f.directives.size() == 2);
  const Header& vp = f.directives[1];
  CHECK(vp.platform_type == kPlatformVsmIsolation);
  REQUIRE(vp.data.size() == 4 + 2 * kVbsRegisterSize);
  CHECK(vp.data[0] == 2);
  // A register count past the end of the file.
  std::ostringstream want;
  want << "vsm.igvm:0x" << std::hex << vp.offset + 8 + 12 << ": error: IGVM_VHT_VP_CONTEXT";
  Bytes bad = b;
  bad[vp.file_offset] = 3;
  try {
    parse_igvm(bad, "vsm.igvm");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find(want.str()) == 0);
  }
}

TEST_CASE("IGVM revision 2 names the architecture its platforms run on", "[igvm]") {
  const Bytes b = read_file(test::igvm_shapes().path / "rev2-cca.igvm");
  const File f = parse_igvm(b, "cca.igvm");
  CHECK(f.architecture == Architecture::kAArch64);
  CHECK(f.platforms.at(0).platform_type == kPlatformCca);
  CHECK(f.directives.at(1).data.size() == kPageSize);
  // The same platform in an x64 file; an SNP platform in an aarch64 one.
  CHECK(error_of(patch(b, kFhArchitecture, 0, 4)).find("cca on the file's architecture") !=
        std::string::npos);
  const Bytes snp = read_file(test::igvm_shapes().path / "rev2-2m.igvm");
  CHECK(error_of(patch(snp, kFhArchitecture, 1, 4)).find("sev-snp on the file's architecture") !=
        std::string::npos);
  CHECK(error_of(patch(b, kFhArchitecture, 2, 4)).find("t.igvm:0x18: error: architecture 2") == 0);
  CHECK(error_of(patch(b, kFhPageSize, 8192, 4)).find("t.igvm:0x1c: error: page size 8192") == 0);
}

TEST_CASE("IGVM native VP context must be zero after its 232 bytes", "[igvm]") {
  const Bytes b = read_file(test::igvm_shapes().path / "multi.igvm");
  const File f = parse_igvm(b, "t.igvm");
  const Header* native = nullptr;
  for (const auto& h : f.directives)
    if (h.type == kVhtVpContext && h.platform_type == kPlatformNative) native = &h;
  REQUIRE(native != nullptr);
  CHECK(error_of(patch(b, native->file_offset + 231, 1, 1)) == "(no error)");
  std::ostringstream want;
  want << "t.igvm:0x" << std::hex << native->file_offset + 232 << ": error: ";
  CHECK(error_of(patch(b, native->file_offset + 232, 1, 1)).find(want.str()) == 0);
}

TEST_CASE("IGVM nonzero padding and headers past the variable header are rejected", "[igvm]") {
  const Bytes b = read_file(test::igvm_shapes().path / "snp-basic.igvm");
  const File f = parse_igvm(b, "t.igvm");
  const std::uint64_t vp = first(f, kVhtVpContext);
  // VP_CONTEXT is 20 bytes, padded with 4 zero bytes to 24.
  CHECK(error_of(patch(b, vp + 8 + 20, 0xff, 1)).find("nonzero padding") != std::string::npos);
  const std::uint64_t last = f.directives.back().offset;
  CHECK(error_of(patch(b, last + 4, 0x10000, 4)).find("runs past the variable header") !=
        std::string::npos);
}

TEST_CASE("IGVM reader reads microsoft/igvm's igvm_c test file as its C test does", "[igvm]") {
  // igvm_c/tests/igvm_test.c (commit e6c3ff1c) on the file of
  // igvm_c/test_data/src/main.rs, rebuilt by igvm_writer.py (shape ms-basic).
  const Bytes b = read_file(test::igvm_shapes().path / "ms-basic.igvm");
  const File f = parse_igvm(b, "ms-basic.igvm");
  REQUIRE(f.platforms.size() == 1);
  CHECK(f.initializations.size() == 2);
  REQUIRE(f.directives.size() == 11);
  CHECK(f.platforms[0].platform_type == kPlatformVsmIsolation);
  CHECK(f.platforms[0].compatibility_mask == 1);
  CHECK(f.platforms[0].platform_version == 1);
  CHECK(f.initializations[1].policy == 0x30000);
  CHECK(f.initializations[1].compatibility_mask == 2);
  CHECK(f.directives[1].gpa == 0x1000);
  CHECK(f.directives[8].type == kVhtParameterArea);
  CHECK(f.directives[8].size == 0x1000);
  CHECK(f.directives[9].type == kVhtVpCount);
  CHECK(f.directives[10].gpa == 0x14000);
  REQUIRE(f.directives[4].data.size() == 0x1000);
  CHECK(std::all_of(f.directives[4].data.begin(), f.directives[4].data.end(),
                    [](std::uint8_t c) { return c == 1; }));
}
