// The expected TDX event list for a QEMU + TDVF boot, in log order
// (docs/specs/tdx.md §4 RTMR0, §5 RTMR1, §6 RTMR2, §7 UKI), and its replay.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/byte_writer.h"
#include "base/error.h"
#include "builder/formats/pe/authenticode.h"
#include "builder/measure/tdx.h"
#include "firmware/tdx_events.h"

namespace mkguest::tdx {
namespace {

constexpr const char* kGlobalVariable = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
constexpr const char* kImageSecurityDb = "d719b2cb-3d3a-4596-a3bc-dad00e67656f";
const Bytes kSeparatorData = {0, 0, 0, 0};

Bytes sha384(std::span<const std::uint8_t> b) { return digest(HashAlg::kSha384, b); }
Bytes str_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

Event make(int rtmr, std::uint32_t type, Bytes data, std::string desc) {
  Event e;
  e.rtmr = rtmr;
  e.type = type;
  e.digest = sha384(data);
  e.description = std::move(desc);
  e.data = std::move(data);
  return e;
}

Event action(int rtmr, std::string_view text) {
  return make(rtmr, kEvEfiAction, str_bytes(text), std::string(text));
}

Event hashed(int rtmr, std::uint32_t type, Bytes dig, std::string desc) {
  Event e;
  e.rtmr = rtmr;
  e.type = type;
  e.digest = std::move(dig);
  e.description = std::move(desc);
  return e;
}

int stub_major(std::span<const std::uint8_t> uki, const pe::PeLayout& l) {
  for (const auto& s : l.sections) {
    if (s.name != ".sdmagic") continue;
    auto b = pe::section_bytes(uki, l, s);
    std::string t(b.begin(), b.end());
    const auto k = t.find("systemd-stub ");
    if (k == std::string::npos) return 0;
    int v = 0;
    for (std::size_t i = k + 13; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i)
      v = v * 10 + (t[i] - '0');
    return v;
  }
  return 0;
}

const pe::PeSection* find_section(const pe::PeLayout& l, std::string_view name) {
  for (const auto& s : l.sections)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace

Prediction predict(const BootInputs& in, const Profile& p) {
  Prediction out;
  const TdvfMetadata md = parse_tdvf(in.firmware, in.firmware_name);
  out.mrtd_single_pass = compute_mrtd(in.firmware, md, PageOrder::kSinglePass);
  out.mrtd_two_pass = compute_mrtd(in.firmware, md, PageOrder::kTwoPass);
  if (in.uki && (in.kernel || in.initrd || in.append))
    throw ValueError(
        "a UKI carries its own kernel, initrd and command line; do not combine it with "
        "--kernel/--initrd/--append");
  auto& ev = out.events;
  if (!p.cc_measurement) {
    out.notes.push_back("profile " + p.name +
                        ": firmware does not measure into RTMRs (RTMR0/1 stay zero)");
  } else {
    // RTMR0: firmware configuration.
    ev.push_back(make(0, kEvEfiHandoffTables2, td_hob(md, in.ram), "TD HOB (TdxTable)"));
    if (const TdvfSection* cfv = md.find(SectionType::kCfv)) {
      auto raw = in.firmware.subspan(cfv->data_offset, cfv->raw_size);
      ev.push_back(make(0, kEvEfiPlatformFirmwareBlob2, Bytes(raw.begin(), raw.end()),
                        "CFV (variable store)"));
    }
    for (const auto& item : p.fw_cfg_items)
      ev.push_back(make(0, kEvPlatformConfigFlags, item.data, "fw_cfg " + item.name));
    const Bytes none;
    ev.push_back(make(0, kEvEfiVariableDriverConfig,
                      uefi_variable_data(kGlobalVariable, "SecureBoot", none), "SecureBoot"));
    ev.push_back(
        make(0, kEvEfiVariableDriverConfig, uefi_variable_data(kGlobalVariable, "PK", none), "PK"));
    ev.push_back(make(0, kEvEfiVariableDriverConfig,
                      uefi_variable_data(kGlobalVariable, "KEK", none), "KEK"));
    ev.push_back(make(0, kEvEfiVariableDriverConfig,
                      uefi_variable_data(kImageSecurityDb, "db", none), "db"));
    ev.push_back(make(0, kEvEfiVariableDriverConfig,
                      uefi_variable_data(kImageSecurityDb, "dbx", none), "dbx"));
    ev.push_back(make(0, kEvSeparator, kSeparatorData, "separator"));
    if (in.table_loader && in.acpi_rsdp && in.acpi_tables) {
      ev.push_back(make(0, kEvPlatformConfigFlags, *in.table_loader, "etc/table-loader"));
      ev.push_back(make(0, kEvPlatformConfigFlags, *in.acpi_rsdp, "etc/acpi/rsdp"));
      ev.push_back(make(0, kEvPlatformConfigFlags, *in.acpi_tables, "etc/acpi/tables"));
    } else {
      out.rtmr0_complete = false;
      out.notes.push_back(
          "ACPI blobs (etc/table-loader, etc/acpi/rsdp, etc/acpi/tables) not given: RTMR0 is "
          "incomplete");
    }
    ByteWriter order;
    for (auto n : p.boot_order) order.le16(n);
    ev.push_back(make(0, kEvEfiVariableBoot, order.take(), "BootOrder"));
    for (const auto& o : p.boot_options) {
      char name[16];
      std::snprintf(name, sizeof name, "Boot%04X", o.number);
      ev.push_back(make(0, kEvEfiVariableBoot,
                        fv_load_option(o.attributes, o.description, o.fv_guid, o.file_guid),
                        std::string(name) + " \"" + o.description + "\""));
    }
  }
  // RTMR1 and RTMR2: the boot application.
  const int sep_rtmr = p.separator_in_rtmr1 ? 1 : 0;
  std::vector<Event> rtmr2;
  if (in.kernel) {
    Bytes image(in.kernel->begin(), in.kernel->end());
    if (p.kernel_patched)
      image =
          qemu_patch_kernel(*in.kernel, in.ram, in.initrd ? in.initrd->size() : 0, in.kernel_name);
    out.kernel_digest = pe::authenticode_digest(image, in.kernel_name);
    const bool has_options = in.append || in.initrd;
    if (has_options) {
      const std::string text = load_options_text(in.append, in.initrd.has_value(), p);
      rtmr2.push_back(
          make(2, kEvEventTag, utf16le_nul(text), "LOADED_IMAGE::LoadOptions \"" + text + "\""));
      out.kernel_params_digest = rtmr2.back().digest;
    }
    if (in.initrd) rtmr2.push_back(hashed(2, kEvEventTag, sha384(*in.initrd), "Linux initrd"));
    if (p.cc_measurement)
      ev.push_back(hashed(1, kEvEfiBootServicesApplication, out.kernel_digest,
                          p.kernel_patched ? "kernel (QEMU setup-header edits)" : "kernel"));
  } else if (in.uki) {
    const auto l = pe::parse_pe(*in.uki, in.uki_name);
    out.kernel_digest = pe::authenticode_digest(*in.uki, in.uki_name);
    if (p.cc_measurement)
      ev.push_back(hashed(1, kEvEfiBootServicesApplication, out.kernel_digest, "UKI"));
    const int stub = stub_major(*in.uki, l);
    if (stub >= 257) {
      static const char* kMeasured[] = {".linux",  ".osrel", ".cmdline", ".initrd", ".ucode",
                                        ".splash", ".dtb",   ".uname",   ".sbat",   ".pcrpkey"};
      for (const char* name : kMeasured) {
        const auto* s = find_section(l, name);
        if (!s) continue;
        Bytes n(name, name + std::strlen(name) + 1);
        rtmr2.push_back(make(2, kEvIpl, n, std::string("UKI section name ") + name));
        rtmr2.push_back(hashed(2, kEvIpl, sha384(pe::section_bytes(*in.uki, l, *s)),
                               std::string("UKI section ") + name));
      }
    } else {
      out.notes.push_back("UKI stub " + std::to_string(stub) +
                          " < 257: no stub CC events modelled");
    }
    if (const auto* c = find_section(l, ".cmdline")) {
      auto b = pe::section_bytes(*in.uki, l, *c);
      std::string text(b.begin(), b.end());
      while (!text.empty() && (text.back() == '\0' || text.back() == '\n')) text.pop_back();
      rtmr2.push_back(
          make(2, kEvEventTag, utf16le_nul(text), "LOADED_IMAGE::LoadOptions \"" + text + "\""));
      out.kernel_params_digest = rtmr2.back().digest;
    }
    if (const auto* i = find_section(l, ".initrd"))
      rtmr2.push_back(
          hashed(2, kEvEventTag, sha384(pe::section_bytes(*in.uki, l, *i)), "Linux initrd"));
    out.notes.push_back(
        "UKI model: inner .linux PE hash in RTMR1 and the systemd-stub CC events are not yet "
        "checked against a real TD log");
  }
  if (p.cc_measurement) {
    ev.push_back(action(1, "Calling EFI Application from Boot Option"));
    ev.push_back(make(sep_rtmr, kEvSeparator, kSeparatorData, "separator (ReadyToBoot)"));
    if (in.uki) {
      const auto l = pe::parse_pe(*in.uki, in.uki_name);
      if (const auto* s = find_section(l, ".linux"))
        ev.push_back(hashed(
            1, kEvEfiBootServicesApplication,
            pe::authenticode_digest(pe::section_bytes(*in.uki, l, *s), in.uki_name + "(.linux)"),
            "UKI .linux (LoadImage by the stub)"));
    }
  }
  ev.insert(ev.end(), rtmr2.begin(), rtmr2.end());
  if (p.cc_measurement) {
    ev.push_back(action(1, "Exit Boot Services Invocation"));
    ev.push_back(action(1, "Exit Boot Services Returned with Success"));
  }
  const auto regs = replay(ev);
  for (int i = 0; i < 3; ++i) out.rtmr[i] = regs[i];
  return out;
}

}  // namespace mkguest::tdx
