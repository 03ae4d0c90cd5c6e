// The UKI writer (see uki_writer.h for the layout and the rules).
#include "builder/formats/uki/writer.h"

#include <algorithm>

#include "base/byte_reader.h"
#include "base/error.h"
#include "builder/formats/pe/image.h"

namespace mkguest {
namespace {

constexpr std::uint32_t kScnCntCode = 0x20;
constexpr std::uint32_t kScnCntInitializedData = 0x40;
constexpr std::uint32_t kScnMemRead = 0x40000000;
constexpr std::size_t kDirDebug = 6;

std::uint64_t round_up(std::uint64_t x, std::uint64_t a) { return (x + a - 1) / a * a; }

void put16(Bytes& b, std::size_t o, std::uint16_t v) {
  b[o] = v & 0xff;
  b[o + 1] = v >> 8;
}
void put32(Bytes& b, std::size_t o, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[o + i] = (v >> (8 * i)) & 0xff;
}

std::uint32_t to_u32(std::uint64_t v, const std::string& source, const std::string& what) {
  if (v > 0xffffffffull) throw file_error(source, what + " does not fit a PE (over 4 GiB)");
  return static_cast<std::uint32_t>(v);
}

struct Sec {
  std::string name;
  std::uint32_t virtual_size = 0, virtual_address = 0, raw_size = 0, raw_pointer = 0,
                characteristics = 0;
  bool from_stub = false;
};

// Python-style slice of `b`: clamps instead of failing, as ukify's code does.
Bytes slice(const Bytes& b, std::uint64_t from, std::uint64_t to) {
  from = std::min<std::uint64_t>(from, b.size());
  to = std::min<std::uint64_t>(std::max(to, from), b.size());
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from),
               b.begin() + static_cast<std::ptrdiff_t>(to));
}

void check_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 8;
  for (char c : name) ok = ok && c > 0x20 && c < 0x7f;
  if (!ok)
    throw ValueError("section name '" + name +
                     "': it must be 1 to 8 printable ASCII characters without spaces");
}

bool lacks_nx(std::span<const std::uint8_t> kernel) {
  try {
    const pe::PeImage k = pe::parse_pe_image(kernel, ".linux");
    return (k.dll_characteristics & pe::kDllNxCompat) == 0;
  } catch (const InputError&) {
    return false;  // not a PE (ukify ignores it the same way)
  }
}

// Moves every section's data by `shift` bytes from `from` on; debug directory
// entries carry file offsets too.
void shift_file_offsets(Bytes& head, const pe::PeImage& p, std::vector<Sec>& secs,
                        std::uint64_t from, std::uint32_t shift, const std::string& source) {
  if (p.directories.size() > kDirDebug && p.directories[kDirDebug].size != 0) {
    const pe::DataDirectory& d = p.directories[kDirDebug];
    for (const Sec& s : secs) {
      if (d.address < s.virtual_address || d.address - s.virtual_address >= s.raw_size) continue;
      const std::uint64_t off = s.raw_pointer + (d.address - s.virtual_address);
      ByteReader r(head, source);
      for (std::uint64_t e = 0; e + 28 <= d.size; e += 28) {
        const std::size_t at = static_cast<std::size_t>(off + e + 24);
        const std::uint32_t ptr = r.le32(at);
        if (ptr >= from) put32(head, at, ptr + shift);
      }
    }
  }
  for (Sec& s : secs)
    if (s.raw_size != 0 && s.raw_pointer >= from) s.raw_pointer += shift;
  Bytes out = slice(head, 0, from);
  out.resize(out.size() + shift, 0);
  const Bytes tail = slice(head, from, head.size());
  out.insert(out.end(), tail.begin(), tail.end());
  head = std::move(out);
}

}  // namespace

UkiPlan plan_uki(std::span<const std::uint8_t> stub, const std::string& stub_name,
                 const std::vector<UkiSectionInput>& inputs, const UkiOptions& options) {
  for (const auto& in : inputs) check_name(in.name);
  const pe::PeImage p = pe::parse_pe_image(stub, stub_name);
  UkiPlan plan;
  Bytes& head = plan.head;
  head.assign(stub.begin(), stub.end());
  std::vector<Sec> secs;
  for (const auto& s : p.sections)
    secs.push_back({s.name, s.virtual_size, s.virtual_address, s.raw_size, s.raw_pointer,
                    s.characteristics, true});
  std::uint32_t symtab = p.symbol_table_pointer, nsyms = p.number_of_symbols;
  const std::uint16_t characteristics = p.characteristics;
  const std::uint32_t fa = p.file_alignment, sa = p.section_alignment;
  if (fa > 0x10000)  // PE/COFF: "a power of 2 between 512 and 64 K"
    throw offset_error(stub_name, p.opt_offset + 36,
                       "FileAlignment " + hex_offset(fa) + " is over 64 KiB");

  if (secs.empty()) throw offset_error(stub_name, p.coff_offset + 2, "the stub has no sections");
  // The realignment below inserts padding at each section's data and moves
  // the later ones: the data must come in header order, after the headers.
  std::uint64_t prev_end = p.size_of_headers;
  for (std::size_t i = 0; i < secs.size(); ++i) {
    const Sec& s = secs[i];
    const bool moves = s.raw_pointer % fa != 0 || s.raw_size % fa != 0;
    if (s.raw_size == 0 && !moves) continue;
    if (s.raw_pointer < prev_end)
      throw offset_error(stub_name, p.sections[i].header_offset + 20,
                         "section " + std::to_string(i) + " (" + s.name + ") data at " +
                             hex_offset(s.raw_pointer) +
                             " lies before the end of the headers or of the previous section's "
                             "data (" +
                             hex_offset(prev_end) + "): the UKI writer needs them in file order");
    prev_end = std::uint64_t{s.raw_pointer} + s.raw_size;
  }

  // 1. A COFF symbol + string table at the very end of an old stub is cut off
  //    (the reader made sure it covers neither the headers nor section data).
  if (symtab != 0 && symtab + p.symbol_table_size == head.size()) {
    if (symtab < prev_end)
      throw offset_error(stub_name, p.coff_offset + 8,
                         "the COFF symbol table at " + hex_offset(symtab) +
                             " lies before the end of the section data (" + hex_offset(prev_end) +
                             ")");
    head.resize(symtab);
    symtab = 0;
    nsyms = 0;
    // ukify sets pefile's IMAGE_FILE_LOCAL_SYMS_STRIPPED flag attribute, which
    // pefile never writes back to Characteristics: the field stays as it was.
  }
  // 2. Every section's raw data realigned to FileAlignment.
  for (std::size_t i = 0; i < secs.size(); ++i) {
    const std::uint64_t oldp = secs[i].raw_pointer, oldsz = secs[i].raw_size;
    const std::uint64_t newp = round_up(oldp, fa), newsz = round_up(oldsz, fa);
    const std::uint64_t padp = newp - oldp, padsz = newsz - oldsz;
    if (padp == 0 && padsz == 0) continue;
    secs[i].raw_pointer = to_u32(newp, stub_name, "a section offset");
    secs[i].raw_size = to_u32(newsz, stub_name, "a section size");
    for (std::size_t j = i + 1; j < secs.size(); ++j)
      secs[j].raw_pointer = to_u32(secs[j].raw_pointer + padp + padsz, stub_name, "an offset");
    Bytes out = slice(head, 0, oldp);
    out.resize(out.size() + padp, 0);
    const Bytes mid = slice(head, oldp, oldp + oldsz);
    out.insert(out.end(), mid.begin(), mid.end());
    out.resize(out.size() + padsz, 0);
    const Bytes tail = slice(head, oldp + oldsz, head.size());
    out.insert(out.end(), tail.begin(), tail.end());
    head = std::move(out);
  }
  std::uint32_t soh = to_u32(round_up(p.size_of_headers, fa), stub_name, "SizeOfHeaders");
  if (soh > head.size())
    throw offset_error(stub_name, p.size_of_headers_offset,
                       "SizeOfHeaders rounded up to FileAlignment (" + hex_offset(soh) +
                           ") runs past the end of the stub (" + hex_offset(head.size()) + ")");
  if (const pe::DataDirectory* cert = p.certificate_directory(); cert && cert->address != 0)
    throw offset_error(stub_name, cert->offset,
                       "the stub is signed (it has a certificate table); sign the UKI instead");

  const std::size_t n_stub = secs.size();
  auto in_stub = [&](const std::string& name) -> std::size_t {
    if (name == ".dtbauto") return n_stub;
    for (std::size_t i = 0; i < n_stub; ++i)
      if (secs[i].name == name) return i;
    return n_stub;
  };

  // 3. Room for the new section headers: ukify checks each one against
  //    SizeOfHeaders; we grow the headers first when they would not fit.
  std::uint64_t needed = 0;
  for (std::size_t i = 0, count = n_stub; i < inputs.size(); ++i) {
    needed = std::max<std::uint64_t>(needed,
                                     p.section_table_offset + pe::kSectionHeaderSize * (count + 1));
    if (in_stub(inputs[i].name) == n_stub) ++count;
  }
  if (needed > soh && options.grow_headers) {
    const std::uint64_t new_soh = round_up(needed, fa);
    std::uint64_t min_va = UINT64_MAX, first_raw = head.size();
    for (const Sec& s : secs) {
      min_va = std::min<std::uint64_t>(min_va, s.virtual_address);
      if (s.raw_size != 0) first_raw = std::min<std::uint64_t>(first_raw, s.raw_pointer);
    }
    if (new_soh > min_va) {
      const std::uint64_t room =
          (std::min<std::uint64_t>(min_va, UINT32_MAX) / fa * fa -
           std::min<std::uint64_t>(p.section_table_offset + pe::kSectionHeaderSize * n_stub,
                                   min_va)) /
          pe::kSectionHeaderSize;
      throw file_error(stub_name, "cannot add " + std::to_string(inputs.size()) +
                                      " sections: the headers would need " + hex_offset(new_soh) +
                                      " bytes, but the first section "
                                      "starts at RVA " +
                                      hex_offset(min_va) +
                                      ", so the headers cannot grow past it (room for " +
                                      std::to_string(room) + " new section headers)");
    }
    plan.headers_grown_from = soh;
    if (new_soh > first_raw)
      shift_file_offsets(head, p, secs, first_raw, static_cast<std::uint32_t>(new_soh - first_raw),
                         stub_name);
    std::fill(head.begin() + soh, head.begin() + static_cast<std::ptrdiff_t>(new_soh), 0);
    soh = static_cast<std::uint32_t>(new_soh);
  }

  // 4. The sections, in order.
  std::uint16_t dll = p.dll_characteristics;
  std::uint32_t init_data = p.size_of_initialized_data;
  std::uint64_t end = head.size();
  for (const auto& in : inputs) {
    const std::uint64_t offset = p.section_table_offset +
                                 pe::kSectionHeaderSize * (secs.size() - 1) +
                                 pe::kSectionHeaderSize;
    if (offset + pe::kSectionHeaderSize > soh)
      throw file_error(stub_name, "Not enough header space to add section " + in.name +
                                      " (SizeOfHeaders " + hex_offset(soh) + ")");
    const std::uint32_t vsize = to_u32(in.data.size(), in.name, "the section");
    if (in.name == ".linux" && lacks_nx(in.data)) dll &= ~pe::kDllNxCompat;
    if (const std::size_t i = in_stub(in.name); i != n_stub) {
      Sec& s = secs[i];
      if (vsize > s.raw_size)
        throw file_error(stub_name, "Not enough space in existing section " + in.name +
                                        " to append new data (" + std::to_string(vsize) +
                                        " bytes, the stub's section holds " +
                                        std::to_string(s.raw_size) + ")");
      if (i + 1 >= n_stub || secs[i + 1].raw_pointer != s.raw_pointer + s.raw_size)
        throw file_error(stub_name, "cannot rewrite " + in.name +
                                        " in place: its data is not followed directly by the "
                                        "next section's");
      if (s.raw_pointer > head.size() || s.raw_size > head.size() - s.raw_pointer)
        throw offset_error(stub_name, p.sections[i].header_offset + 16,
                           "section " + in.name + " data runs past the end of the stub");
      std::copy(in.data.begin(), in.data.end(), head.begin() + s.raw_pointer);
      std::fill(head.begin() + s.raw_pointer + vsize, head.begin() + s.raw_pointer + s.raw_size, 0);
      s.virtual_size = vsize;
      continue;
    }
    Sec s;
    s.name = in.name;
    s.virtual_size = vsize;
    s.raw_pointer = to_u32(round_up(end, fa), in.name, "the UKI");
    s.raw_size = to_u32(round_up(vsize, fa), in.name, "the section");
    s.virtual_address = to_u32(
        round_up(static_cast<std::uint64_t>(secs.back().virtual_address) + secs.back().virtual_size,
                 sa),
        in.name, "the image");
    s.characteristics = kScnMemRead | (in.name == ".linux" ? kScnCntCode : kScnCntInitializedData);
    plan.appended.push_back({s.raw_pointer, in.data, s.raw_size});
    end = static_cast<std::uint64_t>(s.raw_pointer) + s.raw_size;
    init_data += vsize;
    secs.push_back(s);
  }
  plan.size = std::max<std::uint64_t>(end, head.size());
  plan.size_of_headers = soh;

  // 5. Every header field, patched in the original bytes.
  put16(head, p.coff_offset + 2, static_cast<std::uint16_t>(secs.size()));
  put32(head, p.coff_offset + 8, symtab);
  put32(head, p.coff_offset + 12, nsyms);
  put16(head, p.coff_offset + 18, characteristics);
  put32(head, p.size_of_initialized_data_offset, init_data);
  put32(head, p.size_of_headers_offset, soh);
  put32(head, p.checksum_offset, 0);
  put16(head, p.dll_characteristics_offset, dll);
  put32(head, p.size_of_image_offset,
        to_u32(round_up(static_cast<std::uint64_t>(secs.back().virtual_address) +
                            secs.back().virtual_size,
                        sa),
               stub_name, "SizeOfImage"));
  for (std::size_t i = 0; i < secs.size(); ++i) {
    const Sec& s = secs[i];
    const std::size_t e = p.section_table_offset + pe::kSectionHeaderSize * i;
    if (i >= n_stub) {
      std::fill(head.begin() + e, head.begin() + e + pe::kSectionHeaderSize, 0);
      std::copy(s.name.begin(), s.name.end(), head.begin() + e);
      put32(head, e + 12, s.virtual_address);
      put32(head, e + 36, s.characteristics);
    }
    put32(head, e + 8, s.virtual_size);
    put32(head, e + 16, s.raw_size);
    put32(head, e + 20, s.raw_pointer);
    plan.sections.push_back({s.name, s.raw_pointer, s.virtual_size, s.virtual_address, i < n_stub});
  }
  return plan;
}

void write_uki(const UkiPlan& plan, ByteSink& out) {
  static const std::uint8_t zeros[65536] = {};
  auto pad = [&](std::uint64_t n) {
    while (n) {
      const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, sizeof zeros));
      out.write({zeros, k});
      n -= k;
    }
  };
  out.write(plan.head);
  std::uint64_t pos = plan.head.size();
  for (const auto& a : plan.appended) {
    pad(a.offset - pos);
    out.write(a.data);
    pad(a.raw_size - a.data.size());
    pos = a.offset + a.raw_size;
  }
  out.finish();
}

}  // namespace mkguest
