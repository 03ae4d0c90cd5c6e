// Byte progress of a long step (docs/performance.md, "Progress"). Domain code
// (the verity tree, the rootfs stage) counts the bytes it has processed and
// tells whoever listens; it holds no clock and does no I/O. Only the CLI
// renders progress (builder/cli/progress.h).
#pragma once

#include <cstdint>

namespace mkguest {

class ByteProgress {
 public:
  virtual ~ByteProgress() = default;
  // `bytes` more bytes of the current step's work are done. May be called
  // from several threads at once.
  virtual void add(std::uint64_t bytes) = 0;
};

// Reports to `p` when it is set: domain code takes a nullable pointer.
inline void add_progress(ByteProgress* p, std::uint64_t bytes) {
  if (p) p->add(bytes);
}

}  // namespace mkguest
