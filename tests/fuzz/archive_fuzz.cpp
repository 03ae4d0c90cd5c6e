// Fuzz target: the archive input path (tar, pax, cpio, any compression
// libarchive reads) -> FsTree, as the initrd and rootfs stages use it. Any
// input must load or throw a mkguest Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "builder/fstree/load.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mkguest::ArchiveLimits limits;
  limits.max_entries = 4096;
  limits.max_file_size = 1 << 20;
  limits.max_total_size = 4 << 20;
  mkguest::FsTree tree;
  try {
    mkguest::for_each_archive_entry(
        std::span<const std::uint8_t>(data, size), "fuzz.tar", "opt", limits,
        [&](mkguest::FsEntry&& e) {
          if (e.type == mkguest::FsType::kHardlink && !tree.find(e.link_target)) {
            return;
          }
          tree.put(std::move(e));
        });
  } catch (const mkguest::Error&) {
  }
  return 0;
}
