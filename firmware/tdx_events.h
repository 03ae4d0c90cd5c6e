// Intel TDX runtime measurement registers: the expected RTMR[0..2] event list
// of a TD booted by QEMU + TDVF (direct kernel boot or UKI via -kernel), and
// RTMR replay. Spec: docs/specs/tdx.md §3-§8. RTMR_new = SHA384(RTMR_old || digest).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "firmware/tdvf.h"
#include "firmware/tdx_profile.h"

namespace mkguest::tdx {

// TCG event types used in TDX logs.
constexpr std::uint32_t kEvPostCode = 0x1, kEvNoAction = 0x3, kEvSeparator = 0x4, kEvAction = 0x5,
                        kEvEventTag = 0x6, kEvIpl = 0xD, kEvPlatformConfigFlags = 0xA,
                        kEvEfiVariableDriverConfig = 0x80000001, kEvEfiVariableBoot = 0x80000002,
                        kEvEfiBootServicesApplication = 0x80000003, kEvEfiAction = 0x80000007,
                        kEvEfiPlatformFirmwareBlob2 = 0x8000000A, kEvEfiHandoffTables2 = 0x8000000B;
std::string event_type_name(std::uint32_t type);

struct Event {
  int rtmr = 0;  // 0..3 (CCEL MR index = rtmr + 1)
  std::uint32_t type = 0;
  Bytes digest;  // SHA-384
  std::string description;
  Bytes data;  // event data as a log would carry it (informational)
};

// Pieces, exposed for tests and other callers.
Bytes td_hob(const TdvfMetadata& md, std::uint64_t ram);
std::uint64_t below_4g_memory(std::uint64_t ram);
// The bzImage as QEMU <= 9 hands it to the firmware (setup header edits).
Bytes qemu_patch_kernel(std::span<const std::uint8_t> kernel, std::uint64_t ram,
                        std::uint64_t initrd_size, const std::string& source);
Bytes uefi_variable_data(const std::string& guid, const std::string& name,
                         std::span<const std::uint8_t> data);
Bytes utf16le_nul(std::string_view s);
// EFI_LOAD_OPTION for a firmware-volume application (FV(fv)/FvFile(file)/End).
Bytes fv_load_option(std::uint32_t attributes, const std::string& description,
                     const std::string& fv_guid, const std::string& file_guid);
std::string load_options_text(const std::optional<std::string>& append, bool has_initrd,
                              const Profile& p);

std::array<Bytes, 4> replay(const std::vector<Event>& events);

}  // namespace mkguest::tdx
