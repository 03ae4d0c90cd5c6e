// What an ELF executable or shared object needs at run time: its program
// interpreter and its DT_NEEDED, DT_RUNPATH and DT_RPATH entries (System V
// ABI, "ELF-64 Object File Format" and the gABI "Dynamic Section").
//
// Layout read here:
//   e_ident: "\x7fELF", EI_CLASS (1 = 32-bit, 2 = 64-bit), EI_DATA (1 = LE, 2 = BE)
//   ELF header: e_machine, e_phoff, e_phentsize, e_phnum
//   program headers: PT_LOAD (vaddr -> file offset map), PT_INTERP (a NUL-
//     terminated path), PT_DYNAMIC (Elf_Dyn {d_tag, d_val} pairs up to DT_NULL)
//   DT_STRTAB is a virtual address, mapped to the file through PT_LOAD.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mkguest {

struct ElfDeps {
  bool is_64 = false;
  bool big_endian = false;
  std::uint16_t machine = 0;
  std::string interpreter;           // empty: static or a shared object
  std::vector<std::string> needed;   // DT_NEEDED, in order
  std::vector<std::string> runpath;  // DT_RUNPATH (or DT_RPATH when no RUNPATH), split at ':'
};

// Whether the bytes start with the ELF magic.
bool is_elf(std::span<const std::uint8_t> data);

// Parses the dependencies. Throws InputError "source:0xOFF: error: ..." on a
// truncated or malformed file.
ElfDeps parse_elf_deps(std::span<const std::uint8_t> data, const std::string& source);

// The Debian multiarch triplet for e_machine ("x86_64-linux-gnu"...), or "".
std::string multiarch_triplet(std::uint16_t machine, bool is_64);

}  // namespace mkguest
