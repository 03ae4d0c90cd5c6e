// The UKI writer: sections appended to a systemd-stub PE the way ukify 257
// (`pe_add_sections`) appends them, so that the same inputs give the same
// bytes (docs/uki.md; spec: PE/COFF rev. 11 and ukify 257.13).
//
// Layout of the output:
//   the stub, after ukify's fix-ups: a COFF symbol + string table at the end
//     of the file is cut off (PointerToSymbolTable = NumberOfSymbols = 0,
//     LOCAL_SYMS_STRIPPED set); every section's raw data is realigned to
//     FileAlignment; SizeOfHeaders is rounded up to FileAlignment
//   one 40-byte header per new section after the stub's last one
//   per new section, at round_up(end of file, FileAlignment): its data,
//     zero-padded to SizeOfRawData = round_up(size, FileAlignment);
//     VirtualAddress = round_up(previous VA + VirtualSize, SectionAlignment),
//     VirtualSize = size, Characteristics 0x40000020 (.linux) or 0x40000040
//   a section the stub already has (.sbat) is written over the stub's own
//     data in place: it must fit its SizeOfRawData; only VirtualSize changes
//   CheckSum 0; SizeOfImage = round_up(last VA + VirtualSize, SectionAlignment);
//     NX_COMPAT cleared when the .linux PE lacks it.
// Where ukify stops with "Not enough header space", the writer grows
// SizeOfHeaders instead: into the room before the first section's data,
// else by moving every section's data (file offsets only; RVAs do not move),
// as long as the headers stay below the first section's RVA.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/sink.h"

namespace mkguest {

struct UkiSectionInput {
  std::string name;                    // at most 8 printable ASCII characters
  std::span<const std::uint8_t> data;  // owned by the caller until write_uki
};

struct UkiOptions {
  // false: fail exactly where ukify fails ("Not enough header space...").
  bool grow_headers = true;
};

// Where one section of the output lies.
struct UkiSectionRecord {
  std::string name;
  std::uint64_t offset = 0;  // PointerToRawData
  std::uint32_t size = 0;    // VirtualSize: the bytes that are measured
  std::uint32_t virtual_address = 0;
  bool from_stub = false;  // a stub section (possibly rewritten in place)
};

struct UkiPlan {
  Bytes head;  // the stub after fix-ups, every header patched, in-place sections written
  struct Appended {
    std::uint64_t offset = 0;
    std::span<const std::uint8_t> data;
    std::uint32_t raw_size = 0;
  };
  std::vector<Appended> appended;
  std::uint64_t size = 0;                  // the output's size in bytes
  std::vector<UkiSectionRecord> sections;  // every section, in header order
  std::uint32_t headers_grown_from = 0;    // SizeOfHeaders before growing, or 0
  std::uint32_t size_of_headers = 0;
};

// Plans the output. Throws InputError naming `stub_name` (or the section)
// for a stub that is signed or malformed, a bad section name, or sections
// that do not fit.
UkiPlan plan_uki(std::span<const std::uint8_t> stub, const std::string& stub_name,
                 const std::vector<UkiSectionInput>& sections, const UkiOptions& options = {});

// Streams the planned output into `out` (calls out.finish()).
void write_uki(const UkiPlan& plan, ByteSink& out);

}  // namespace mkguest
