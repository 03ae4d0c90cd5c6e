// ELF dependency reader (see elf_deps.h for the layout).
#include "builder/fstree/elf_deps.h"

#include <algorithm>

#include "base/byte_reader.h"
#include "base/error.h"

namespace mkguest {
namespace {

constexpr std::uint32_t kPtLoad = 1, kPtDynamic = 2, kPtInterp = 3;
constexpr std::uint64_t kDtNull = 0, kDtNeeded = 1, kDtStrtab = 5, kDtStrsz = 10, kDtRpath = 15,
                        kDtRunpath = 29;
constexpr std::size_t kMaxDynamic = 1 << 16;

struct Segment {
  std::uint32_t type = 0;
  std::uint64_t offset = 0, vaddr = 0, filesz = 0;
};

class Elf {
 public:
  Elf(const ByteReader& r, bool is64, bool be) : r_(r), is64_(is64), be_(be) {}
  std::uint16_t u16(std::size_t o) const { return be_ ? r_.be16(o) : r_.le16(o); }
  std::uint32_t u32(std::size_t o) const { return be_ ? r_.be32(o) : r_.le32(o); }
  std::uint64_t u64(std::size_t o) const { return be_ ? r_.be64(o) : r_.le64(o); }
  std::uint64_t word(std::size_t o) const { return is64_ ? u64(o) : u32(o); }

 private:
  const ByteReader& r_;
  bool is64_, be_;
};

std::size_t to_size(const ByteReader& r, std::size_t at, std::uint64_t v, const char* what) {
  if (v > r.size())
    r.fail(at, std::string(what) + " " + hex_offset(v) + " is beyond the end of the file");
  return static_cast<std::size_t>(v);
}

}  // namespace

bool is_elf(std::span<const std::uint8_t> d) {
  return d.size() >= 4 && d[0] == 0x7f && d[1] == 'E' && d[2] == 'L' && d[3] == 'F';
}

ElfDeps parse_elf_deps(std::span<const std::uint8_t> data, const std::string& source) {
  ByteReader r(data, source);
  if (!is_elf(data)) r.fail(0, "not an ELF file (no \\x7fELF magic)");
  r.need(0, 16, "ELF identification");
  const std::uint8_t cls = r.u8(4), enc = r.u8(5);
  if (cls != 1 && cls != 2) r.fail(4, "unknown ELF class " + std::to_string(cls));
  if (enc != 1 && enc != 2) r.fail(5, "unknown ELF data encoding " + std::to_string(enc));
  ElfDeps d;
  d.is_64 = cls == 2;
  d.big_endian = enc == 2;
  const Elf e(r, d.is_64, d.big_endian);
  r.need(0, d.is_64 ? 64 : 52, "ELF header");
  d.machine = e.u16(18);
  const std::size_t phoff_at = d.is_64 ? 32 : 28;
  const std::uint64_t phoff = e.word(phoff_at);
  const std::size_t phentsize = e.u16(d.is_64 ? 54 : 42);
  const std::size_t phnum = e.u16(d.is_64 ? 56 : 44);
  const std::size_t min_ph = d.is_64 ? 56 : 32;
  if (phnum == 0) return d;  // a relocatable object: nothing to load
  if (phentsize < min_ph)
    r.fail(d.is_64 ? 54 : 42, "e_phentsize " + std::to_string(phentsize) + " is too small");
  const std::size_t ph = to_size(r, phoff_at, phoff, "e_phoff");
  r.need(ph, phentsize * phnum, "program header table");

  std::vector<Segment> segs;
  for (std::size_t i = 0; i < phnum; ++i) {
    const std::size_t p = ph + phentsize * i;
    Segment s;
    s.type = e.u32(p);
    if (d.is_64) {
      s.offset = e.u64(p + 8);
      s.vaddr = e.u64(p + 16);
      s.filesz = e.u64(p + 32);
    } else {
      s.offset = e.u32(p + 4);
      s.vaddr = e.u32(p + 8);
      s.filesz = e.u32(p + 16);
    }
    if (s.type == kPtLoad || s.type == kPtDynamic || s.type == kPtInterp) {
      if (s.offset > r.size() || s.filesz > r.size() - s.offset)
        r.fail(p, "segment " + std::to_string(i) + " [" + hex_offset(s.offset) + ", +" +
                      hex_offset(s.filesz) + ") lies outside the file");
    }
    segs.push_back(s);
  }
  const Segment* dyn = nullptr;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const Segment& s = segs[i];
    if (s.type == kPtInterp) {
      if (!d.interpreter.empty()) r.fail(ph + phentsize * i, "more than one PT_INTERP");
      d.interpreter = r.cstring(s.offset, s.filesz);
      if (d.interpreter.empty() || d.interpreter[0] != '/')
        r.fail(s.offset, "PT_INTERP is not an absolute path");
    } else if (s.type == kPtDynamic) {
      if (dyn) r.fail(ph + phentsize * i, "more than one PT_DYNAMIC");
      dyn = &s;
    }
  }
  if (!dyn) return d;

  const std::size_t entsz = d.is_64 ? 16 : 8;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> tags;
  std::uint64_t strtab = 0, strsz = 0;
  bool have_strtab = false;
  for (std::size_t i = 0;; ++i) {
    const std::uint64_t at = dyn->offset + entsz * i;
    if (i >= kMaxDynamic || entsz * (i + 1) > dyn->filesz)
      r.fail(static_cast<std::size_t>(dyn->offset), "dynamic section has no DT_NULL terminator");
    const std::uint64_t tag = e.word(at), val = e.word(at + entsz / 2);
    if (tag == kDtNull) break;
    if (tag == kDtStrtab) {
      strtab = val;
      have_strtab = true;
    } else if (tag == kDtStrsz) {
      strsz = val;
    } else if (tag == kDtNeeded || tag == kDtRunpath || tag == kDtRpath) {
      tags.emplace_back(tag, val);
    }
  }
  if (tags.empty()) return d;
  if (!have_strtab)
    r.fail(static_cast<std::size_t>(dyn->offset), "dynamic section has no DT_STRTAB");
  // Map DT_STRTAB (a virtual address) to a file offset through PT_LOAD.
  std::uint64_t str_off = 0, str_len = 0;
  bool mapped = false;
  for (const Segment& s : segs) {
    if (s.type != kPtLoad || strtab < s.vaddr || strtab - s.vaddr >= s.filesz) continue;
    str_off = s.offset + (strtab - s.vaddr);
    str_len = s.filesz - (strtab - s.vaddr);
    mapped = true;
    break;
  }
  if (!mapped)
    r.fail(static_cast<std::size_t>(dyn->offset),
           "DT_STRTAB " + hex_offset(strtab) + " is in no PT_LOAD segment");
  if (strsz != 0) str_len = std::min(str_len, strsz);
  const ByteReader strings =
      r.sub(static_cast<std::size_t>(str_off), static_cast<std::size_t>(str_len));
  std::vector<std::string> rpath;
  for (const auto& [tag, val] : tags) {
    if (val >= strings.size())
      strings.fail(0, "dynamic string offset " + hex_offset(val) + " is outside DT_STRTAB");
    const std::size_t o = static_cast<std::size_t>(val);
    std::string s = strings.cstring(o, strings.size() - o);
    if (o + s.size() >= strings.size()) strings.fail(o, "unterminated dynamic string");
    if (tag == kDtNeeded) {
      if (s.empty() || s.find('/') != std::string::npos)
        strings.fail(o, "DT_NEEDED \"" + s + "\" is not a plain library name");
      d.needed.push_back(std::move(s));
    } else {
      auto& dst = tag == kDtRunpath ? d.runpath : rpath;
      std::size_t start = 0;
      while (start <= s.size()) {
        std::size_t colon = s.find(':', start);
        if (colon == std::string::npos) colon = s.size();
        if (colon > start) dst.push_back(s.substr(start, colon - start));
        start = colon + 1;
      }
    }
  }
  if (d.runpath.empty()) d.runpath = std::move(rpath);
  return d;
}

std::string multiarch_triplet(std::uint16_t machine, bool is_64) {
  switch (machine) {
    case 62:
      return is_64 ? "x86_64-linux-gnu" : "";
    case 3:
      return "i386-linux-gnu";
    case 183:
      return "aarch64-linux-gnu";
    case 22:
      return is_64 ? "s390x-linux-gnu" : "";
    case 21:
      return is_64 ? "powerpc64le-linux-gnu" : "";
    case 243:
      return is_64 ? "riscv64-linux-gnu" : "";
    default:
      return "";
  }
}

}  // namespace mkguest
