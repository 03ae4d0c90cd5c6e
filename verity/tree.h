// The dm-verity hash tree, computed bit-for-bit as `veritysetup format`
// (cryptsetup 2.6) does (spec docs/specs/verity-rootfs.md §1.2-1.3), in parallel.
//
// Format 1: digest = H(salt ‖ block); format 0: digest = H(block ‖ salt).
// Level 0 is computed from the data in chunks of 256 KiB spread over
// worker threads (each block's digest lands in its own slot, so threads never
// share output); each upper level is computed from the level below the same
// way; the root hash is the digest of the single top block (or of the only
// data block when N = 1). Memory: the hash area plus one chunk per thread.
#pragma once

#include <cstdint>
#include <span>

#include "base/progress.h"
#include "verity/geometry.h"

namespace mkguest::verity {

// Where the data comes from. read() must be safe to call from several threads.
class DataSource {
 public:
  virtual ~DataSource() = default;
  virtual std::uint64_t size() const = 0;
  // Fills `out` with the bytes at [offset, offset + out.size()) (all inside size()).
  virtual void read(std::uint64_t offset, std::span<std::uint8_t> out) const = 0;
  // A zero-copy view of [offset, offset + len) if the source is in memory, else empty.
  virtual std::span<const std::uint8_t> view(std::uint64_t, std::size_t) const { return {}; }
};

// Data held in memory.
class SpanSource : public DataSource {
 public:
  explicit SpanSource(std::span<const std::uint8_t> data) : data_(data) {}
  std::uint64_t size() const override { return data_.size(); }
  void read(std::uint64_t offset, std::span<std::uint8_t> out) const override;
  std::span<const std::uint8_t> view(std::uint64_t offset, std::size_t len) const override {
    return data_.subspan(offset, len);
  }

 private:
  std::span<const std::uint8_t> data_;
};

struct TreeOptions {
  unsigned threads = 0;  // 0 = std::thread::hardware_concurrency()
  // Hash a short last data block as if zero-padded to the block size. Without
  // it, a source smaller than N · data_block_size is an error. The caller must
  // then pad the data itself (the kernel reads whole blocks).
  bool pad_tail = false;
  // Told the bytes of data read for the leaf level (nullable; called from the
  // worker threads).
  ByteProgress* progress = nullptr;
};

struct VerityTree {
  Bytes root_hash;
  // Bytes [area_offset, hash_end) of the hash output: the superblock (when
  // enabled), zero padding, then the tree. Written over an empty output.
  Bytes hash_area;
};

// Computes the tree over the first N · data_block_size bytes of `data`. The
// source may be longer (an appended hash area after the data).
VerityTree build_tree(const VerityGeometry& geometry, const DataSource& data,
                      const TreeOptions& options = {});

// Hashes one block as dm-verity does for this format and salt.
void verity_hash_block(HashAlg alg, std::uint32_t hash_type, std::span<const std::uint8_t> salt,
                       std::span<const std::uint8_t> block, std::uint8_t* out);

}  // namespace mkguest::verity
