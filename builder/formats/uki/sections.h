// The sections of a UKI as ukify 257 assembles them from its options
// (`make_uki`), before builder/formats/uki/writer.h lays them out:
//   order: .osrel .cmdline .dtb .uname .splash .pcrpkey .linux .initrd,
//     then the user's sections, then .sbat (merged), then .pcrsig
//   --cmdline TEXT is whitespace-normalised (' '.join(split())), @FILE verbatim
//   several initrds are concatenated, each zero-padded to 4 bytes
//   .sbat = "sbat,1,SBAT Version,..." + the non-header lines of the stub's and
//     the kernel's .sbat + of each --sbat text (default: the "uki,1,UKI,..."
//     line), joined with '\n' and terminated by "\n\0"
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "builder/formats/uki/writer.h"

namespace mkguest {

struct UkiContents {
  std::optional<Bytes> osrel, cmdline, devicetree, uname, splash, pcrpkey;
  std::optional<std::span<const std::uint8_t>> linux_image;
  std::vector<std::span<const std::uint8_t>> initrds;
  std::vector<std::pair<std::string, Bytes>> extra;  // user sections, in order
  std::vector<std::string> sbat;                     // --sbat texts (contents)
  std::optional<Bytes> pcrsig;                       // added last
};

// Owns the bytes the section list points into (the joined initrd, .sbat).
struct UkiSections {
  std::vector<UkiSectionInput> list;
  Bytes joined_initrd;
  Bytes sbat;
  std::vector<std::string> notes;  // e.g. an --sbat text skipped for not starting with "sbat,"
};

// The section list for `stub` and `c`. `c` must outlive the result.
UkiSections ukify_sections(std::span<const std::uint8_t> stub, const UkiContents& c);

// ukify's merge of SBAT data: see the header comment.
std::string merge_sbat(const std::vector<std::span<const std::uint8_t>>& pes,
                       const std::vector<std::string>& texts, std::vector<std::string>* notes);

// ' '.join(text.split()): runs of whitespace become one space, none at the ends.
std::string normalize_cmdline(const std::string& text);

// The kernel version from an x86 bzImage's setup header (the string at
// 0x200 + the u16 at 0x20e), as ukify's Uname.scrape_x86 reads it; nullopt
// when there is none.
std::optional<std::string> scrape_uname_x86(std::span<const std::uint8_t> kernel);

// The "#### LoaderInfo: systemd-stub 252.39-1~deb12u2 ####" text of a stub's
// .sdmagic section, as "252.39-1~deb12u2", or "" when there is none.
std::string stub_version(std::span<const std::uint8_t> stub, const std::string& name);

}  // namespace mkguest
