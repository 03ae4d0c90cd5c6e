// The SE launch digests of a component table, computed in one place for the
// writer and the reader (and through them inspect, verify and the manifest):
// PLD (SHA-512 over the stored pages), ALD (over each page's big-endian
// address), TLD (over each page's tweak) and NEP (the number of pages).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>

#include "base/digest.h"

namespace mkguest::se {

// A component as the launch digests see it: page-aligned, its pages' tweaks
// counting up by 0x1000 from `tweak`.
struct MeasuredComponent {
  std::uint64_t addr = 0;
  std::uint64_t size = 0;                // a multiple of 4096
  std::array<std::uint8_t, 16> tweak{};  // of the first page
};

struct LaunchDigests {
  Bytes pld, ald, tld;
  std::uint64_t nep = 0;
};

// Feeds component i's stored bytes (size bytes, in order, any chunking) to `feed`.
using StoredBytes = std::function<void(
    std::size_t i, const std::function<void(std::span<const std::uint8_t>)>& feed)>;

LaunchDigests launch_digests(std::span<const MeasuredComponent> comps, const StoredBytes& stored);

}  // namespace mkguest::se
