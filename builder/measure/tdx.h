// The expected TDX measurements of one boot: MRTD (both page-add orders) and
// the RTMR[0..2] event list of a TD booted by QEMU + TDVF (direct kernel boot
// or UKI via -kernel), with Trustee's kernel digests. Spec: docs/specs/tdx.md §3-§8.
// A pure function of the firmware, the boot inputs and the host profile: the
// build, `measure tdx`, `verify` and `verify-eventlog` all call predict().
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "firmware/tdx_events.h"
#include "firmware/tdx_profile.h"

namespace mkguest::tdx {

struct BootInputs {
  std::span<const std::uint8_t> firmware;
  std::string firmware_name = "firmware";
  std::optional<std::span<const std::uint8_t>> kernel;  // bzImage (or PE) for -kernel
  std::optional<std::span<const std::uint8_t>> initrd;
  std::optional<std::string> append;                 // -append
  std::optional<std::span<const std::uint8_t>> uki;  // UKI for -kernel
  std::string kernel_name = "kernel", uki_name = "uki";
  std::uint64_t ram = 2ull << 30;
  // ACPI fw_cfg blobs dumped from the host shape (etc/table-loader, etc/acpi/rsdp,
  // etc/acpi/tables).
  std::optional<Bytes> table_loader, acpi_rsdp, acpi_tables;
};

struct Prediction {
  Bytes mrtd_single_pass, mrtd_two_pass;
  std::vector<Event> events;   // log order, RTMR0..2 interleaved as the firmware emits them
  std::array<Bytes, 3> rtmr;   // replay of `events`
  bool rtmr0_complete = true;  // false when ACPI blobs were not given
  std::vector<std::string> notes;
  // Trustee's TDX reference values: digest of the kernel as measured
  // (tdvfkernel) and of the LoadOptions (tdvfkernelparams).
  Bytes kernel_digest, kernel_params_digest;
};

Prediction predict(const BootInputs& in, const Profile& profile);

}  // namespace mkguest::tdx
