// Expected TDX RTMR events for QEMU + TDVF boots (see tdx_events.h; docs/specs/tdx.md §3-§8).
#include "firmware/tdx_events.h"

#include <algorithm>
#include <cstring>

#include "base/byte_reader.h"
#include "base/byte_writer.h"
#include "base/error.h"
#include "firmware/guid.h"

namespace mkguest::tdx {

constexpr std::uint64_t kAcpiDataSize = 0x28000;  // QEMU acpi_data_size

std::string event_type_name(std::uint32_t t) {
  switch (t) {
    case kEvPostCode:
      return "EV_POST_CODE";
    case kEvNoAction:
      return "EV_NO_ACTION";
    case kEvSeparator:
      return "EV_SEPARATOR";
    case kEvAction:
      return "EV_ACTION";
    case kEvEventTag:
      return "EV_EVENT_TAG";
    case kEvIpl:
      return "EV_IPL";
    case kEvPlatformConfigFlags:
      return "EV_PLATFORM_CONFIG_FLAGS";
    case kEvEfiVariableDriverConfig:
      return "EV_EFI_VARIABLE_DRIVER_CONFIG";
    case kEvEfiVariableBoot:
      return "EV_EFI_VARIABLE_BOOT";
    case kEvEfiBootServicesApplication:
      return "EV_EFI_BOOT_SERVICES_APPLICATION";
    case kEvEfiAction:
      return "EV_EFI_ACTION";
    case kEvEfiPlatformFirmwareBlob2:
      return "EV_EFI_PLATFORM_FIRMWARE_BLOB2";
    case kEvEfiHandoffTables2:
      return "EV_EFI_HANDOFF_TABLES2";
  }
  return "0x" + to_hex(Bytes{std::uint8_t(t >> 24), std::uint8_t(t >> 16), std::uint8_t(t >> 8),
                             std::uint8_t(t)});
}

std::uint64_t below_4g_memory(std::uint64_t ram) {
  return ram >= 0xB0000000ull ? 0x80000000ull : ram;
}

Bytes td_hob(const TdvfMetadata& md, std::uint64_t ram) {
  const TdvfSection* hob = md.find(SectionType::kTdHob);
  if (!hob) throw file_error("TDVF", "no TD_HOB section; cannot build the TD HOB");
  struct Range {
    std::uint64_t start, length;
    std::uint32_t type;
  };
  const std::uint64_t low = below_4g_memory(ram);
  std::vector<Range> accepted;
  for (const auto& s : md.sections)
    if (s.type == SectionType::kTdHob || s.type == SectionType::kTempMem)
      accepted.push_back({s.gpa, s.memory_size, 0});
  std::sort(accepted.begin(), accepted.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
  std::vector<Range> out;
  std::uint64_t cur = 0;
  for (const auto& a : accepted) {
    if (a.start < cur) throw file_error("TDVF", "overlapping TD_HOB/TEMP_MEM sections");
    if (a.start + a.length > low)
      throw ValueError("RAM size " + std::to_string(ram) +
                       " does not cover the TDVF memory sections");
    if (a.start > cur) out.push_back({cur, a.start - cur, 7});
    out.push_back(a);
    cur = a.start + a.length;
  }
  if (cur < low) out.push_back({cur, low - cur, 7});
  if (ram > low) out.push_back({0x100000000ull, ram - low, 7});
  ByteWriter w;
  w.le16(1);
  w.le16(56);
  w.le32(0);
  w.le32(9);
  w.le32(0);
  for (int i = 0; i < 4; ++i) w.le64(0);
  w.le64(hob->gpa + 56 + 48ull * out.size() + 8);
  for (const auto& r : out) {
    w.le16(3);
    w.le16(48);
    w.le32(0);
    w.zeros(16);
    w.le32(r.type);
    w.le32(7);
    w.le64(r.start);
    w.le64(r.length);
  }
  return w.take();
}

Bytes qemu_patch_kernel(std::span<const std::uint8_t> kernel, std::uint64_t ram,
                        std::uint64_t initrd_size, const std::string& source) {
  ByteReader r(kernel, source);
  Bytes k(kernel.begin(), kernel.end());
  if (r.size() < 0x240 || r.le32(0x202) != 0x53726448) return k;  // not a bzImage: unchanged
  const std::uint16_t protocol = r.le16(0x206);
  if (protocol < 0x202 || !(r.u8(0x211) & 0x01))
    r.fail(0x206, "boot protocol " + hex_offset(protocol) +
                      " kernels are not modelled (need >= 0x202, bzImage)");
  const std::uint32_t real_addr = 0x10000, cmdline_addr = 0x20000;
  std::uint64_t initrd_max;
  if (protocol >= 0x20C && (r.le16(0x236) & 0x2))
    initrd_max = 0xFFFFFFFFull;
  else if (protocol >= 0x203)
    initrd_max = r.le32(0x22C);
  else
    initrd_max = 0x37FFFFFF;
  const std::uint64_t low = below_4g_memory(ram);
  if (initrd_max >= low - kAcpiDataSize) initrd_max = low - kAcpiDataSize - 1;
  store_le32(k.data() + 0x228, cmdline_addr);
  k[0x210] = 0xB0;
  k[0x211] |= 0x80;
  store_le16(k.data() + 0x224, static_cast<std::uint16_t>(cmdline_addr - real_addr - 0x200));
  if (initrd_size) {
    if (initrd_size >= initrd_max) throw ValueError("initrd is too large for the RAM size");
    const std::uint64_t addr = (initrd_max - initrd_size) & ~0xFFFull;
    store_le32(k.data() + 0x218, static_cast<std::uint32_t>(addr));
    store_le32(k.data() + 0x21C, static_cast<std::uint32_t>(initrd_size));
  }
  return k;
}

Bytes utf16le_nul(std::string_view s) {
  Bytes b;
  for (unsigned char c : s) {  // OVMF widens byte by byte (no UTF-8 decoding)
    b.push_back(c);
    b.push_back(0);
  }
  b.push_back(0);
  b.push_back(0);
  return b;
}

Bytes uefi_variable_data(const std::string& guid, const std::string& name,
                         std::span<const std::uint8_t> data) {
  ByteWriter w;
  w.append(Guid::parse(guid).bytes());
  w.le64(name.size());
  w.le64(data.size());
  Bytes n = utf16le_nul(name);
  n.resize(n.size() - 2);
  w.append(n);
  w.append(data);
  return w.take();
}

Bytes fv_load_option(std::uint32_t attributes, const std::string& description,
                     const std::string& fv_guid, const std::string& file_guid) {
  ByteWriter path;
  path.u8(0x04);  // media device path
  path.u8(0x07);  // PIWG firmware volume
  path.le16(20);
  path.append(Guid::parse(fv_guid).bytes());
  path.u8(0x04);
  path.u8(0x06);  // PIWG firmware file
  path.le16(20);
  path.append(Guid::parse(file_guid).bytes());
  path.u8(0x7F);
  path.u8(0xFF);
  path.le16(4);
  ByteWriter w;
  w.le32(attributes);
  w.le16(static_cast<std::uint16_t>(path.size()));
  w.append(utf16le_nul(description));
  w.append(path.bytes());
  return w.take();
}

std::string load_options_text(const std::optional<std::string>& append, bool has_initrd,
                              const Profile& p) {
  std::string s = append.value_or("");
  if (has_initrd) s = p.initrd_prefix ? "initrd=initrd " + s : s + " initrd=initrd";
  if (p.shim_prefix) s = "kernel " + s;
  return s;
}

std::array<Bytes, 4> replay(const std::vector<Event>& events) {
  std::array<Bytes, 4> r;
  for (auto& x : r) x.assign(48, 0);
  for (const auto& e : events) {
    if (e.type == kEvNoAction) continue;
    if (e.rtmr < 0 || e.rtmr > 3 || e.digest.size() != 48)
      throw InternalError("event with invalid register or digest");
    Hasher h(HashAlg::kSha384);
    h.update(r[e.rtmr]).update(e.digest);
    r[e.rtmr] = h.finish();
  }
  return r;
}

}  // namespace mkguest::tdx
