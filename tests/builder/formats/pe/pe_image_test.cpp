// PE/COFF reader: section tables checked against objdump on real images
// (the Debian systemd stub and kernel fetched by scripts/fetch-debian-inputs),
// and strict rejections of truncated or malformed headers with offsets.
#include <catch2/catch.hpp>

#include <cstdio>
#include <sstream>

#include "base/byte_writer.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/formats/pe/image.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using namespace mkguest;

namespace {

void put16(std::vector<std::uint8_t>& b, std::size_t o, std::uint16_t v) {
  b[o] = v & 0xff;
  b[o + 1] = v >> 8;
}
void put32(std::vector<std::uint8_t>& b, std::size_t o, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[o + i] = (v >> (8 * i)) & 0xff;
}

// A PE32+ image: headers 0x400, `nsec` sections of 0x200 raw bytes each.
std::vector<std::uint8_t> synthetic_pe(int nsec = 2, std::uint32_t nrva = 16) {
  std::vector<std::uint8_t> b(0x400 + 0x200 * nsec, 0);
  b[0] = 'M';
  b[1] = 'Z';
  put32(b, 0x3c, 0x80);
  b[0x80] = 'P';
  b[0x81] = 'E';
  const std::size_t c = 0x84, o = c + 20;
  const std::uint16_t opt = 112 + 8 * nrva;
  put16(b, c, 0x8664);
  put16(b, c + 2, nsec);
  put16(b, c + 16, opt);
  put16(b, o, 0x20b);
  put32(b, o + 32, 0x1000);
  put32(b, o + 36, 0x200);
  put32(b, o + 60, 0x400);
  put16(b, o + 70, 0x160);
  put32(b, o + 108, nrva);
  for (int i = 0; i < nsec; ++i) {
    const std::size_t e = o + opt + 40 * i;
    const std::string name = i == 0 ? ".text" : ".data" + std::to_string(i);
    for (std::size_t k = 0; k < name.size() && k < 8; ++k) b[e + k] = name[k];
    put32(b, e + 8, 0x100 + i);
    put32(b, e + 12, 0x1000 * (i + 1));
    put32(b, e + 16, 0x200);
    put32(b, e + 20, 0x400 + 0x200 * i);
    put32(b, e + 36, 0x40000040);
    for (int k = 0; k < 0x100 + i; ++k) b[0x400 + 0x200 * i + k] = 0x41 + i;
  }
  return b;
}

std::string error_of(const std::vector<std::uint8_t>& b) {
  try {
    pe::parse_pe_image(b, "x.efi");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

// objdump -h rows: name, size (min of VirtualSize and SizeOfRawData), VMA-ImageBase, file offset.
std::string objdump_rows(const fs::path& f) {
  auto r = test::run({"objdump", "-h", f.string()});
  REQUIRE(r.exit_code == 0);
  std::istringstream in(r.out);
  std::string line, out;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string idx, name, size, vma, lma, off;
    if (!(l >> idx >> name >> size >> vma >> lma >> off)) continue;
    if (idx.empty() || !std::isdigit(static_cast<unsigned char>(idx[0]))) continue;
    out += name + " " + size + " " + vma + " " + off + "\n";
  }
  return out;
}

std::string hex8(std::uint64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llx", width, static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

TEST_CASE("PE reader: a synthetic PE32+ image", "[pe]") {
  const auto b = synthetic_pe(3);
  const pe::PeImage p = pe::parse_pe_image(b, "x.efi");
  CHECK(p.pe32_plus);
  CHECK(p.machine == 0x8664);
  CHECK(p.sections.size() == 3);
  CHECK(p.directories.size() == 16);
  CHECK(p.checksum_offset == 0x84 + 20 + 64);
  CHECK(p.dll_characteristics == 0x160);
  CHECK(p.section_table_end() == 0x84 + 20 + 240 + 120);
  REQUIRE(p.find(".data2") != nullptr);
  const auto d = pe::section_data(b, *p.find(".data2"));
  CHECK(d.size() == 0x102);
  CHECK(d[0] == 0x43);
  CHECK(p.find(".nope") == nullptr);
}

TEST_CASE("PE reader: section tables equal objdump's on Debian's stub and kernel", "[pe]") {
  const fs::path stub = test::source_dir() /
                        ".cache/debian/root/systemd-boot-efi/usr/lib/systemd/boot/efi/"
                        "linuxx64.efi.stub";
  const fs::path kernel = test::source_dir() / ".cache/debian/vmlinuz";
  if (!fs::exists(stub) || !fs::exists(kernel) || !test::have_tool("objdump")) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return;
  }
  for (const fs::path& f : {stub, kernel}) {
    const auto bytes = read_file(f);
    const pe::PeImage p = pe::parse_pe_image(bytes, f.filename().string());
    std::string mine;
    for (const auto& s : p.sections)
      mine += s.name + " " +
              hex8(s.raw_size == 0 ? s.virtual_size : std::min(s.virtual_size, s.raw_size), 8) +
              " " + hex8(p.image_base + s.virtual_address, p.pe32_plus ? 16 : 8) + " " +
              hex8(s.raw_pointer, 8) + "\n";
    CHECK(mine == objdump_rows(f));
  }
}

TEST_CASE("PE reader: malformed headers are rejected with their offset", "[pe]") {
  auto b = synthetic_pe();
  SECTION("short file") {
    b.resize(0x20);
    CHECK(error_of(b) == "x.efi:0x0: error: not a PE image: 32 bytes is shorter than a DOS header");
  }
  SECTION("no MZ") {
    b[0] = 'X';
    CHECK(error_of(b) == "x.efi:0x0: error: not a PE image: no \"MZ\" DOS header");
  }
  SECTION("e_lfanew past the end") {
    put32(b, 0x3c, 0xfffffff0);
    CHECK(error_of(b).rfind("x.efi:0xfffffff0: error: PE signature and COFF header", 0) == 0);
  }
  SECTION("bad magic") {
    put16(b, 0x98, 0x30b);
    CHECK(error_of(b) ==
          "x.efi:0x98: error: unknown optional header magic 0x30b (expected 0x10b for PE32 "
          "or 0x20b for PE32+)");
  }
  SECTION("too many directories") {
    put32(b, 0x98 + 108, 17);
    CHECK(error_of(b) == "x.efi:0x104: error: NumberOfRvaAndSizes 17 exceeds 16");
  }
  SECTION("file alignment") {
    put32(b, 0x98 + 36, 0x300);
    CHECK(error_of(b) == "x.efi:0xbc: error: FileAlignment 0x300 is not a power of two");
  }
  SECTION("section data past the end") {
    b.resize(0x700);
    CHECK(error_of(b) ==
          "x.efi:0x1c0: error: section 1 (.data1) data [0x600, +0x200) lies outside the "
          "file (0x700 bytes)");
  }
  SECTION("certificate table outside") {
    put32(b, 0x98 + 112 + 32, 0x7f8);
    put32(b, 0x98 + 112 + 36, 0x10);
    CHECK(error_of(b) ==
          "x.efi:0x128: error: certificate table [0x7f8, +0x10) lies outside the file "
          "(0x800 bytes)");
  }
  SECTION("SizeOfHeaders inside the section table") {
    put32(b, 0x98 + 60, 0x100);
    CHECK(error_of(b) == "x.efi:0xd4: error: SizeOfHeaders 0x100 ends inside the section table");
  }
  SECTION("every truncation throws an InputError") {
    const auto full = synthetic_pe();
    for (std::size_t n = 0; n < 0x400; n += 7) {
      std::vector<std::uint8_t> t(full.begin(), full.begin() + n);
      CHECK_THROWS_AS(pe::parse_pe_image(t, "x.efi"), InputError);
    }
  }
}
