// File edge of verity: pread source, hash output writer, libcryptsetup verify.
#include "verity/verity_file.h"

#include <fcntl.h>
#include <libcryptsetup.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/error.h"
#include "base/file.h"
#include "verity/superblock.h"

namespace mkguest::verity {

namespace {

void pwrite_all(int fd, const std::filesystem::path& p, std::span<const std::uint8_t> data,
                std::uint64_t off) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(off + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      io_fail(p, "cannot write");
    }
    done += static_cast<std::size_t>(n);
  }
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ec;
  return std::filesystem::exists(b, ec) && std::filesystem::equivalent(a, b, ec);
}

// Top-down check, as the kernel walks the tree: the first block (lowest level
// index from the top, lowest position within a level) whose digest differs.
std::string diagnose(const std::filesystem::path& data, const std::filesystem::path& hash,
                     const VerityGeometry& g, std::span<const std::uint8_t> root) {
  const VerityParams& p = g.params;
  FileSource ds(data);
  if (ds.size() < g.data_bytes()) {
    return "the data file holds " + std::to_string(ds.size()) + " bytes, " +
           std::to_string(g.data_bytes()) + " are covered";
  }
  FileSource hs(hash);
  if (hs.size() < g.output_size) {
    return "the hash file holds " + std::to_string(hs.size()) + " bytes, the tree ends at " +
           std::to_string(g.output_size);
  }
  Bytes stored(static_cast<std::size_t>(g.area_size()));
  hs.read(g.area_offset, stored);
  const std::uint64_t B = p.hash_block_size;
  auto block_at = [&](std::size_t level, std::uint64_t j) {
    return std::span<const std::uint8_t>(stored).subspan(
        static_cast<std::size_t>(g.level_offset(level) - g.area_offset + j * B),
        static_cast<std::size_t>(B));
  };
  auto slot_at = [&](std::size_t level, std::uint64_t i) {
    return block_at(level, i / g.per_block).subspan((i % g.per_block) * g.slot_size, g.digest_size);
  };
  auto hash_block_name = [&](std::size_t level, std::uint64_t j) {
    std::uint64_t abs = g.levels[level].first_block + j;
    return "hash block " + std::to_string(abs) + " (tree level " + std::to_string(level) +
           ", byte offset " + std::to_string(abs * B) + " of the hash file)";
  };
  Bytes d(g.digest_size);
  if (g.levels.empty()) {
    Bytes block(p.data_block_size);
    ds.read(0, block);
    verity_hash_block(p.hash, p.hash_type, p.salt, block, d.data());
    if (!std::equal(d.begin(), d.end(), root.begin(), root.end())) {
      return "data block 0 (byte offset 0) does not match the root hash";
    }
    return {};
  }
  const std::size_t top = g.levels.size() - 1;
  verity_hash_block(p.hash, p.hash_type, p.salt, block_at(top, 0), d.data());
  if (!std::equal(d.begin(), d.end(), root.begin(), root.end())) {
    return hash_block_name(top, 0) + ": the root block does not match the root hash";
  }
  for (std::size_t i = top; i >= 1; --i) {
    for (std::uint64_t j = 0; j < g.levels[i - 1].blocks; ++j) {
      verity_hash_block(p.hash, p.hash_type, p.salt, block_at(i - 1, j), d.data());
      auto s = slot_at(i, j);
      if (!std::equal(d.begin(), d.end(), s.begin(), s.end())) {
        return hash_block_name(i - 1, j) + " does not match its digest in the level above";
      }
    }
  }
  Bytes buf;
  const std::uint64_t per_read = std::max<std::uint64_t>(1, (1u << 20) / p.data_block_size);
  for (std::uint64_t k = 0; k < p.data_blocks; k += per_read) {
    std::uint64_t n = std::min(per_read, p.data_blocks - k);
    buf.resize(static_cast<std::size_t>(n * p.data_block_size));
    ds.read(k * p.data_block_size, buf);
    for (std::uint64_t j = 0; j < n; ++j) {
      verity_hash_block(p.hash, p.hash_type, p.salt,
                        std::span<const std::uint8_t>(buf).subspan(
                            static_cast<std::size_t>(j * p.data_block_size), p.data_block_size),
                        d.data());
      auto s = slot_at(0, k + j);
      if (!std::equal(d.begin(), d.end(), s.begin(), s.end())) {
        return "data block " + std::to_string(k + j) + " (byte offset " +
               std::to_string((k + j) * p.data_block_size) + ") does not match its digest";
      }
    }
  }
  return {};
}

struct CryptFree {
  void operator()(crypt_device* cd) const { crypt_free(cd); }
};

void log_to_string(int level, const char* msg, void* usrptr) {
  if (level == CRYPT_LOG_DEBUG || level == CRYPT_LOG_DEBUG_JSON) return;
  static_cast<std::string*>(usrptr)->append(msg);
}

}  // namespace

FileSource::FileSource(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) io_fail(path, "cannot open");
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    ::close(fd_);
    io_fail(path, "cannot stat");
  }
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    ::close(fd_);
    throw file_error(path.string(), "not a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

FileSource::~FileSource() {
  if (fd_ >= 0) ::close(fd_);
}

void FileSource::read(std::uint64_t offset, std::span<std::uint8_t> out) const {
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      io_fail(path_, "cannot read");
    }
    if (n == 0) throw file_error(path_.string(), "file shrank while reading");
    done += static_cast<std::size_t>(n);
  }
}

std::uint64_t file_size(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) io_fail(path, "cannot stat");
  return static_cast<std::uint64_t>(st.st_size);
}

std::uint64_t pad_file(const std::filesystem::path& path, std::uint32_t block_size) {
  std::uint64_t size = verity::file_size(path);
  std::uint64_t padded = (size + block_size - 1) / block_size * block_size;
  if (padded != size && ::truncate(path.c_str(), static_cast<off_t>(padded)) != 0) {
    io_fail(path, "cannot extend");
  }
  return padded;
}

VerityTree format_files(const std::filesystem::path& data, const std::filesystem::path& hash,
                        const VerityGeometry& g, const TreeOptions& options) {
  const bool combined = same_file(data, hash);
  if (combined && g.data_bytes() > g.area_offset) {
    throw ValueError("the data area (" + std::to_string(g.data_bytes()) +
                     " bytes) overlaps the hash area at " + std::to_string(g.area_offset));
  }
  VerityTree tree;
  {
    FileSource src(data);
    tree = build_tree(g, src, options);
  }
  Fd f;
  if (combined) {
    f.fd = ::open(hash.c_str(), O_WRONLY | O_CLOEXEC);
    if (f.fd < 0) io_fail(hash, "cannot open");
    if (::ftruncate(f.fd, static_cast<off_t>(g.area_offset)) != 0) io_fail(hash, "cannot truncate");
  } else {
    f.fd = ::open(hash.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f.fd < 0) io_fail(hash, "cannot create");
    if (::fchmod(f.fd, 0644) != 0) io_fail(hash, "cannot chmod");
  }
  pwrite_all(f.fd, hash, tree.hash_area, g.area_offset);
  if (::ftruncate(f.fd, static_cast<off_t>(g.output_size)) != 0) io_fail(hash, "cannot size");
  if (::close(f.fd) != 0) {
    f.fd = -1;
    io_fail(hash, "cannot close");
  }
  f.fd = -1;
  return tree;
}

VerityParams read_superblock(const std::filesystem::path& hash, std::uint64_t offset) {
  FileSource hs(hash);
  if (offset > hs.size() || hs.size() - offset < kSuperblockSize) {
    throw offset_error(hash.string(), offset, "no room for a verity superblock");
  }
  Bytes sb(kSuperblockSize);
  hs.read(offset, sb);
  return parse_superblock(ByteReader(sb, hash.string(), offset));
}

VerifyResult verify_files(const std::filesystem::path& data, const std::filesystem::path& hash,
                          const VerityParams& given, std::span<const std::uint8_t> root_hash) {
  VerifyResult result;
  VerityParams params = given.superblock ? read_superblock(hash, given.hash_offset) : given;
  VerityGeometry g = plan_verity(params);
  if (root_hash.size() != g.digest_size) {
    throw ValueError("the root hash has " + std::to_string(root_hash.size()) + " bytes, " +
                     std::string(hash_name(params.hash)) + " needs " +
                     std::to_string(g.digest_size));
  }

  crypt_device* raw = nullptr;
  int r = crypt_init_data_device(&raw, hash.c_str(), data.c_str());
  if (r < 0) throw InternalError("crypt_init_data_device: " + std::string(std::strerror(-r)));
  std::unique_ptr<crypt_device, CryptFree> cd(raw);
  crypt_set_log_callback(cd.get(), log_to_string, &result.log);

  std::string hash_str(hash_name(params.hash));
  crypt_params_verity vp{};
  vp.hash_area_offset = params.hash_offset;
  if (given.superblock) {
    vp.flags = CRYPT_VERITY_CHECK_HASH;
    r = crypt_load(cd.get(), CRYPT_VERITY, &vp);
    if (r < 0) throw file_error(hash.string(), "libcryptsetup cannot load the verity superblock");
  } else {
    vp.hash_name = hash_str.c_str();
    vp.data_device = data.c_str();
    vp.salt = reinterpret_cast<const char*>(params.salt.data());
    vp.salt_size = static_cast<std::uint32_t>(params.salt.size());
    vp.hash_type = params.hash_type;
    vp.data_block_size = params.data_block_size;
    vp.hash_block_size = params.hash_block_size;
    vp.data_size = params.data_blocks;
    vp.flags = CRYPT_VERITY_NO_HEADER | CRYPT_VERITY_CHECK_HASH;
    r = crypt_format(cd.get(), CRYPT_VERITY, nullptr, nullptr, nullptr, nullptr, 0, &vp);
    if (r < 0) {
      // The parameters come from the caller (a manifest, a command line): an
      // input problem, reported with libcryptsetup's own words.
      std::string log = result.log;
      while (!log.empty() && (log.back() == '\n' || log.back() == ' ')) log.pop_back();
      throw ValueError("libcryptsetup rejects these verity parameters" +
                       (log.empty() ? std::string() : ": " + log));
    }
  }
  r = crypt_activate_by_volume_key(cd.get(), nullptr,
                                   reinterpret_cast<const char*>(root_hash.data()),
                                   root_hash.size(), CRYPT_ACTIVATE_READONLY);
  result.ok = r == 0;
  if (!result.ok) {
    constexpr std::string_view kAt = "Verification failed at position ";
    if (auto at = result.log.find(kAt); at != std::string::npos) {
      result.position = std::strtoull(result.log.c_str() + at + kAt.size(), nullptr, 10);
    }
    result.first_bad = diagnose(data, hash, g, root_hash);
    if (result.first_bad.empty()) result.first_bad = "no block differs (padding or spare area)";
  }
  return result;
}

}  // namespace mkguest::verity
