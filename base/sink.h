// Streaming byte sinks: files, digests and compressors chained together, so
// that artifacts are written and hashed in one pass without being held whole
// in memory.
//
// Compressors are configured for what the Linux kernel can unpack and for
// reproducibility: gzip through zlib with a header holding no name and no
// time (RFC 1952, MTIME 0); xz through liblzma with CRC32 checks (the
// kernel's XZ Embedded does not support libarchive's CRC64); zstd frames from
// libzstd, single-threaded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"

namespace mkguest {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual void write(std::span<const std::uint8_t> data) = 0;
  // Flushes everything (compressors write their trailer). Call exactly once.
  virtual void finish() = 0;
};

// Appends to a file created with mode 0644 (independent of the umask).
class FileSink : public ByteSink {
 public:
  explicit FileSink(const std::filesystem::path& path);
  ~FileSink() override;
  void write(std::span<const std::uint8_t> data) override;
  void finish() override;
  std::uint64_t size() const { return size_; }

 private:
  void flush();
  void write_all(std::span<const std::uint8_t> data);
  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<std::uint8_t> buf_;
  std::uint64_t size_ = 0;
};

// Collects everything in memory (tests and small artifacts).
class MemorySink : public ByteSink {
 public:
  void write(std::span<const std::uint8_t> data) override {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
  }
  void finish() override {}
  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
};

// Passes data through and digests it with sha256 and sha384.
class DigestSink : public ByteSink {
 public:
  explicit DigestSink(ByteSink& next) : next_(next) {}
  void write(std::span<const std::uint8_t> data) override;
  void finish() override;
  std::uint64_t size() const { return size_; }
  const Bytes& sha256() const { return sha256_; }
  const Bytes& sha384() const { return sha384_; }

 private:
  ByteSink& next_;
  Hasher h256_{HashAlg::kSha256};
  Hasher h384_{HashAlg::kSha384};
  Bytes sha256_, sha384_;
  std::uint64_t size_ = 0;
};

enum class Codec { kNone, kGzip, kZstd, kXz };

// The level used when none is given: gzip 6, zstd 3, xz 6.
int default_level(Codec codec);

// A sink that compresses into `next`. finish() also finishes `next`.
std::unique_ptr<ByteSink> make_compressor(Codec codec, std::optional<int> level, ByteSink& next);

}  // namespace mkguest
