// The sections of a UKI as ukify 257 assembles them from its options
// (`make_uki`), before builder/formats/uki/writer.h lays them out:
//   order: .osrel .cmdline .dtb .uname .splash .pcrpkey .linux .initrd,
//     then the user's sections, then .sbat (merged), then .pcrsig
//   --cmdline TEXT is whitespace-normalised (' '.join(split())), @FILE verbatim
//   several initrds are concatenated, each zero-padded to 4 bytes
//   .sbat = "sbat,1,SBAT Version,..." + the non-header lines of the stub's and
//     the kernel's .sbat + of each --sbat text (default: the "uki,1,UKI,..."
//     line), joined with '\n' and terminated by "\n\0"
// Multi-profile UKIs (ukify 257 --profile / --join-profile; UAPI UKI spec,
// "Multi-Profile UKIs"):
//   a profile PE (--profile without --join-profile): .profile first, no .sbat
//   a UKI joining profiles: the base sections, .sbat, the base .profile
//     (default "ID=main"), its .pcrsig; then per joined PE, in order: its
//     .profile, .linux .osrel .cmdline .initrd .ucode .splash .dtb .uname .sbat
//     in that PE's order (.osrel only when the base has one), its .pcrsig
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
  std::optional<Bytes> pcrsig;                       // the base's .pcrsig
  std::optional<Bytes> profile;                      // the base's .profile
  // The sections taken from each --join-profile PE (profile_pe_sections),
  // and each profile's own .pcrsig.
  struct Joined {
    std::vector<UkiSectionInput> sections;
    std::optional<Bytes> pcrsig;
  };
  std::vector<Joined> joined;
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

// The sections ukify 257 copies from a --join-profile PE: those named in the
// header comment, in file order, each min(VirtualSize, SizeOfRawData) bytes.
// Throws InputError (at `name`) unless the first is the only .profile.
std::vector<UkiSectionInput> profile_pe_sections(std::span<const std::uint8_t> pe,
                                                 const std::string& name, bool with_osrel);

// The sections of profile `index` as the 257 stub selects them: those of
// the index-th .profile up to the next one, plus the base sections (before
// the first .profile) they do not override. A UKI without .profile has one
// profile, the whole list. Throws ValueError for an index it does not have.
std::vector<UkiSectionInput> profile_view(const std::vector<UkiSectionInput>& all,
                                          std::size_t index);
// How many profiles: the number of .profile sections, at least 1.
std::size_t profile_count(const std::vector<UkiSectionInput>& all);

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
