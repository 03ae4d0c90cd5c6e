// The UKI planner on hostile stubs: sizes and offsets from the stub (symbol
// and string table, section data, header room) are checked before use, and
// the PE reader refuses what the planner cannot handle, so that `inspect`
// and `uki build` agree (docs/security.md, "Hardening, second round").
#include <catch2/catch.hpp>

#include "base/error.h"
#include "base/file.h"
#include "builder/formats/pe/image.h"
#include "builder/formats/uki/sections.h"
#include "builder/formats/uki/writer.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

void put16(Bytes& b, std::size_t o, std::uint16_t v) {
  b[o] = v & 0xff;
  b[o + 1] = v >> 8;
}
void put32(Bytes& b, std::size_t o, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[o + i] = (v >> (8 * i)) & 0xff;
}

struct Sec {
  const char* name;
  std::uint32_t raw, size;
};

// A PE32+ stub (FileAlignment 0x200, SizeOfHeaders 0x400, COFF header at
// 0x84) with these sections, each at RVA 0x1000 * (i + 1).
Bytes stub(const std::vector<Sec>& secs, std::size_t file_size) {
  Bytes b(file_size, 0);
  b[0] = 'M';
  b[1] = 'Z';
  put32(b, 0x3c, 0x80);
  b[0x80] = 'P';
  b[0x81] = 'E';
  const std::size_t c = 0x84, o = c + 20;
  put16(b, c, 0x8664);
  put16(b, c + 2, static_cast<std::uint16_t>(secs.size()));
  put16(b, c + 16, 112 + 8 * 16);
  put16(b, o, 0x20b);
  put32(b, o + 32, 0x1000);
  put32(b, o + 36, 0x200);
  put32(b, o + 60, 0x400);
  put32(b, o + 108, 16);
  for (std::size_t i = 0; i < secs.size(); ++i) {
    const std::size_t e = o + 112 + 128 + 40 * i;
    for (std::size_t k = 0; secs[i].name[k]; ++k) b[e + k] = secs[i].name[k];
    put32(b, e + 8, secs[i].size);
    put32(b, e + 12, 0x1000 * static_cast<std::uint32_t>(i + 1));
    put32(b, e + 16, secs[i].size);
    put32(b, e + 20, secs[i].raw);
    put32(b, e + 36, 0x40000040);
  }
  return b;
}

// The stub of the heap overflow: PointerToSymbolTable 0x7f0 (.sbat's data),
// no symbols, and a "string table size" that is the rest of the file.
Bytes overflow_stub() {
  Bytes b =
      stub({{".text", 0x400, 0x3f0}, {".sbat", 0x7f0, 0x200}, {".data", 0x9f0, 0x200}}, 0xbf0);
  put32(b, 0x84 + 8, 0x7f0);
  put32(b, 0x7f0, 0x400);
  return b;
}

std::string plan_error(const Bytes& s) {
  const Bytes kernel(100, 'k');
  try {
    plan_uki(s, "S", {{".linux", kernel}, {".sbat", Bytes(16, 's')}});
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("uki plan: a symbol table over section data is refused, not cut off", "[uki]") {
  const Bytes s = overflow_stub();
  const std::string want =
      "S:0x8c: error: COFF symbol and string table [0x7f0, +0x400) overlaps section 1 (.sbat) "
      "data [0x7f0, +0x200)";
  CHECK(plan_error(s) == want);
  CHECK_THROWS_WITH(pe::parse_pe_image(s, "S"), want);  // inspect says the same
  // The same table after the section data is cut off, as ukify cuts it.
  Bytes ok = stub({{".text", 0x400, 0x400}, {".sbat", 0x800, 0x200}}, 0xa08);
  put32(ok, 0x84 + 8, 0xa00);
  put32(ok, 0xa00, 8);
  const UkiPlan p = plan_uki(ok, "S", {{".linux", Bytes(10, 'k')}});
  CHECK(p.head.size() == 0xa00);
  CHECK(p.size == 0xc00);
  CHECK((p.head[0x8c] | p.head[0x8d] | p.head[0x8e] | p.head[0x8f]) == 0);  // PointerToSymbolTable
}

TEST_CASE("uki plan: a stub without sections is refused", "[uki]") {
  Bytes s = stub({}, 0x400);
  CHECK(plan_error(s) == "S:0x86: error: NumberOfSections is 0: an image without sections");
}

TEST_CASE("uki plan: overlapping or unordered section data is refused", "[uki]") {
  // Overlapping data: the reader refuses it.
  Bytes s = stub({{".text", 0x400, 0x400}, {".sbat", 0x600, 0x200}}, 0x800);
  CHECK(plan_error(s) ==
        "S:0x1c4: error: section 1 (.sbat) data [0x600, +0x200) overlaps section 0 (.text) "
        "data [0x400, +0x400)");
  // Data out of header order that the realignment would move: the planner refuses it.
  s = stub({{".text", 0x600, 0x1f0}, {".sbat", 0x400, 0x200}}, 0x800);
  CHECK(plan_error(s).rfind("S:0x1c4: error: section 1 (.sbat) data at 0x400 lies before", 0) == 0);
}

TEST_CASE("uki build: the overflowing stub is an input error with its offset", "[uki][cli]") {
  test::TempDir d;
  write_file(d / "S", overflow_stub());
  write_file(d / "K", Bytes(100, 'k'));
  auto r =
      test::run_mkguest({"uki", "build", "--stub", "S", "--linux", "K", "-o", "U"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("S:0x8c: error: COFF symbol and string table") != std::string::npos);
  CHECK(!fs::exists(d / "U"));
  Bytes none = stub({}, 0x400);
  write_file(d / "N", none);
  r = test::run_mkguest({"uki", "build", "--stub", "N", "--linux", "K", "-o", "U"}, {}, d.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("N:0x86: error: NumberOfSections is 0") != std::string::npos);
}

TEST_CASE("uki: a stub version that is not printable ASCII is refused at its offset",
          "[uki][hostile]") {
  Bytes s = stub({{".text", 0x400, 0x200}, {".sdmagic", 0x600, 0x200}}, 0x800);
  const std::string magic = "#### LoaderInfo: systemd-stub 257\xff ####";
  std::copy(magic.begin(), magic.end(), s.begin() + 0x600);
  // The version reaches the manifest (JSON): 0xff would end the build with an
  // internal JSON error; it is an input error at the byte.
  try {
    stub_version(s, "S");
    FAIL("accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()) ==
          "S:0x621: error: the stub's .sdmagic version is not printable ASCII");
  }
  s[0x621] = '1';
  CHECK(stub_version(s, "S") == "2571");
}
