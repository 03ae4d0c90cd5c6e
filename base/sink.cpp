#include "base/sink.h"

#include <fcntl.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace mkguest {

namespace {
constexpr std::size_t kChunk = 1 << 20;
}

FileSink::FileSink(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0 || ::fchmod(fd_, 0644) != 0) {
    throw InternalError(path.string() + ": cannot create: " + std::strerror(errno));
  }
  buf_.reserve(kChunk);
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSink::write_all(std::span<const std::uint8_t> data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InternalError(path_.string() + ": cannot write: " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

void FileSink::flush() {
  write_all(buf_);
  buf_.clear();
}

void FileSink::write(std::span<const std::uint8_t> data) {
  size_ += data.size();
  if (buf_.size() + data.size() > kChunk) flush();
  if (data.size() >= kChunk) {
    write_all(data);  // large writes go straight out, without a copy
    return;
  }
  buf_.insert(buf_.end(), data.begin(), data.end());
}

void FileSink::finish() {
  flush();
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    throw InternalError(path_.string() + ": cannot close: " + std::strerror(errno));
  }
}

void DigestSink::write(std::span<const std::uint8_t> data) {
  h256_.update(data);
  h384_.update(data);
  size_ += data.size();
  next_.write(data);
}

void DigestSink::finish() {
  sha256_ = h256_.finish();
  sha384_ = h384_.finish();
  next_.finish();
}

int default_level(Codec codec) {
  switch (codec) {
    case Codec::kNone:
      return 0;
    case Codec::kGzip:
      return 6;
    case Codec::kZstd:
      return 3;
    case Codec::kXz:
      return 6;
  }
  return 0;
}

namespace {

class PassSink : public ByteSink {
 public:
  explicit PassSink(ByteSink& next) : next_(next) {}
  void write(std::span<const std::uint8_t> d) override { next_.write(d); }
  void finish() override { next_.finish(); }

 private:
  ByteSink& next_;
};

class GzipSink : public ByteSink {
 public:
  GzipSink(int level, ByteSink& next) : next_(next), out_(kChunk) {
    // windowBits 15 + 16: a gzip wrapper whose header zlib writes with no
    // name, no comment and MTIME 0.
    if (deflateInit2(&z_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw InternalError("zlib: deflateInit2 failed");
    }
  }
  ~GzipSink() override { deflateEnd(&z_); }
  void write(std::span<const std::uint8_t> d) override { run(d, Z_NO_FLUSH); }
  void finish() override {
    run({}, Z_FINISH);
    next_.finish();
  }

 private:
  void run(std::span<const std::uint8_t> d, int flush) {
    z_.next_in = const_cast<Bytef*>(d.data());
    z_.avail_in = static_cast<uInt>(d.size());
    for (;;) {
      z_.next_out = out_.data();
      z_.avail_out = static_cast<uInt>(out_.size());
      int rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) throw InternalError("zlib: deflate failed");
      next_.write({out_.data(), out_.size() - z_.avail_out});
      if (flush == Z_FINISH ? rc == Z_STREAM_END : z_.avail_in == 0 && z_.avail_out != 0) break;
    }
  }
  ByteSink& next_;
  z_stream z_{};
  std::vector<std::uint8_t> out_;
};

class XzSink : public ByteSink {
 public:
  XzSink(int level, ByteSink& next) : next_(next), out_(kChunk) {
    if (lzma_easy_encoder(&s_, static_cast<std::uint32_t>(level), LZMA_CHECK_CRC32) != LZMA_OK) {
      throw InternalError("liblzma: cannot create the encoder");
    }
  }
  ~XzSink() override { lzma_end(&s_); }
  void write(std::span<const std::uint8_t> d) override { run(d, LZMA_RUN); }
  void finish() override {
    run({}, LZMA_FINISH);
    next_.finish();
  }

 private:
  void run(std::span<const std::uint8_t> d, lzma_action action) {
    s_.next_in = d.data();
    s_.avail_in = d.size();
    for (;;) {
      s_.next_out = out_.data();
      s_.avail_out = out_.size();
      lzma_ret rc = lzma_code(&s_, action);
      if (rc != LZMA_OK && rc != LZMA_STREAM_END) {
        throw InternalError("liblzma: compression failed (" + std::to_string(rc) + ")");
      }
      next_.write({out_.data(), out_.size() - s_.avail_out});
      if (action == LZMA_FINISH ? rc == LZMA_STREAM_END : s_.avail_in == 0) break;
    }
  }
  ByteSink& next_;
  lzma_stream s_ = LZMA_STREAM_INIT;
  std::vector<std::uint8_t> out_;
};

class ZstdSink : public ByteSink {
 public:
  ZstdSink(int level, ByteSink& next) : next_(next), out_(ZSTD_CStreamOutSize()) {
    cctx_ = ZSTD_createCCtx();
    if (!cctx_ || ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1))) {
      throw InternalError("libzstd: cannot create the encoder");
    }
  }
  ~ZstdSink() override { ZSTD_freeCCtx(cctx_); }
  void write(std::span<const std::uint8_t> d) override { run(d, ZSTD_e_continue); }
  void finish() override {
    run({}, ZSTD_e_end);
    next_.finish();
  }

 private:
  void run(std::span<const std::uint8_t> d, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{d.data(), d.size(), 0};
    for (;;) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      std::size_t left = ZSTD_compressStream2(cctx_, &out, &in, mode);
      if (ZSTD_isError(left)) {
        throw InternalError(std::string("libzstd: ") + ZSTD_getErrorName(left));
      }
      next_.write({out_.data(), out.pos});
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) break;
    }
  }
  ByteSink& next_;
  ZSTD_CCtx* cctx_ = nullptr;
  std::vector<std::uint8_t> out_;
};

}  // namespace

std::unique_ptr<ByteSink> make_compressor(Codec codec, std::optional<int> level, ByteSink& next) {
  int lv = level.value_or(default_level(codec));
  switch (codec) {
    case Codec::kNone:
      return std::make_unique<PassSink>(next);
    case Codec::kGzip:
      return std::make_unique<GzipSink>(lv, next);
    case Codec::kZstd:
      return std::make_unique<ZstdSink>(lv, next);
    case Codec::kXz:
      return std::make_unique<XzSink>(lv, next);
  }
  throw InternalError("unknown codec");
}

}  // namespace mkguest
