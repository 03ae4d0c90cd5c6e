// Parallel dm-verity tree computation (spec docs/specs/verity-rootfs.md §1.2-1.3).
#include "verity/tree.h"

// The per-block hashing uses OpenSSL's one-shot context structs (deprecated
// in 3.0, still exported, same SHA-NI code as EVP): a context that has
// absorbed the salt is copied by value for each block, where EVP would fetch
// the algorithm, take locks and allocate per digest.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "base/error.h"
#include "verity/superblock.h"

namespace mkguest::verity {

namespace {

constexpr std::size_t kChunkBytes = 1 << 18;  // 256 KiB: the copy stays in L2 for hashing

void hash_one(Hasher& h, std::uint32_t hash_type, std::span<const std::uint8_t> salt,
              std::span<const std::uint8_t> block, std::uint8_t* out) {
  if (hash_type == 1) {
    h.update(salt);
    h.update(block);
  } else {
    h.update(block);
    h.update(salt);
  }
  h.finish(out);
}

// dm-verity's block digest for one algorithm, format and salt, reused for
// every block of a level: format 1 starts each block from a copy of the
// salted context; format 0 appends the salt.
template <typename Ctx, int (*Init)(Ctx*), int (*Update)(Ctx*, const void*, size_t),
          int (*Final)(unsigned char*, Ctx*)>
class SaltedHash {
 public:
  SaltedHash(std::uint32_t hash_type, std::span<const std::uint8_t> salt)
      : type_(hash_type), salt_(salt) {
    Init(&salted_);
    if (type_ == 1) Update(&salted_, salt.data(), salt.size());
  }
  void operator()(std::span<const std::uint8_t> block, std::uint8_t* out) const {
    Ctx c = salted_;
    Update(&c, block.data(), block.size());
    if (type_ != 1) Update(&c, salt_.data(), salt_.size());
    Final(out, &c);
  }

 private:
  std::uint32_t type_;
  std::span<const std::uint8_t> salt_;
  Ctx salted_{};
};

using Sha1Salted = SaltedHash<SHA_CTX, SHA1_Init, SHA1_Update, SHA1_Final>;
using Sha256Salted = SaltedHash<SHA256_CTX, SHA256_Init, SHA256_Update, SHA256_Final>;
using Sha384Salted = SaltedHash<SHA512_CTX, SHA384_Init, SHA384_Update, SHA384_Final>;
using Sha512Salted = SaltedHash<SHA512_CTX, SHA512_Init, SHA512_Update, SHA512_Final>;

// Calls fn(hasher) with the SaltedHash for `alg`.
template <typename Fn>
void with_block_hasher(HashAlg alg, std::uint32_t hash_type, std::span<const std::uint8_t> salt,
                       Fn&& fn) {
  switch (alg) {
    case HashAlg::kSha1:
      return fn(Sha1Salted(hash_type, salt));
    case HashAlg::kSha256:
      return fn(Sha256Salted(hash_type, salt));
    case HashAlg::kSha384:
      return fn(Sha384Salted(hash_type, salt));
    case HashAlg::kSha512:
      return fn(Sha512Salted(hash_type, salt));
  }
  throw InternalError("verity: unsupported hash");
}

// One level: `count` blocks of `block_size` bytes read from `src` at `base`
// (bytes at or past `valid_end` read as zero); the digest of block i goes to
// out + (i / P) · B + (i % P) · slot.
struct LevelJob {
  const VerityGeometry* g;
  const DataSource* src;
  std::uint64_t base;
  std::uint64_t count;
  std::uint32_t block_size;
  std::uint64_t valid_end;
  std::uint8_t* out;
  ByteProgress* progress = nullptr;
};

void run_level(const LevelJob& job, unsigned threads) {
  const VerityGeometry& g = *job.g;
  const std::uint64_t per_chunk = std::max<std::uint64_t>(1, kChunkBytes / job.block_size);
  const std::uint64_t chunks = (job.count + per_chunk - 1) / per_chunk;
  std::atomic<std::uint64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;

  auto worker = [&]() {
    try {
      Bytes buf;
      std::vector<std::uint8_t> digest(g.digest_size);
      const std::uint64_t P = g.per_block, B = g.params.hash_block_size;
      for (std::uint64_t k; (k = next.fetch_add(1)) < chunks;) {
        const std::uint64_t first = k * per_chunk;
        const std::uint64_t n = std::min(per_chunk, job.count - first);
        const std::uint64_t off = job.base + first * job.block_size;
        const std::size_t len = static_cast<std::size_t>(n * job.block_size);
        const std::size_t have =
            off >= job.valid_end
                ? 0
                : static_cast<std::size_t>(std::min<std::uint64_t>(len, job.valid_end - off));
        std::span<const std::uint8_t> bytes;
        if (have == len) bytes = job.src->view(off, len);
        if (bytes.empty()) {
          buf.resize(len);
          if (have) job.src->read(off, std::span<std::uint8_t>(buf.data(), have));
          std::fill(buf.begin() + static_cast<std::ptrdiff_t>(have), buf.end(), 0);
          bytes = buf;
        }
        with_block_hasher(g.params.hash, g.params.hash_type, g.params.salt, [&](const auto& hash) {
          for (std::uint64_t j = 0; j < n; ++j) {
            const std::uint64_t i = first + j;
            std::uint8_t* slot = job.out + (i / P) * B + (i % P) * g.slot_size;
            hash(bytes.subspan(static_cast<std::size_t>(j * job.block_size), job.block_size), slot);
          }
        });
        add_progress(job.progress, have);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(chunks);
    }
  };

  const unsigned n_threads =
      static_cast<unsigned>(std::max<std::uint64_t>(1, std::min<std::uint64_t>(threads, chunks)));
  std::vector<std::thread> pool;
  pool.reserve(n_threads - 1);
  for (unsigned t = 1; t < n_threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

void SpanSource::read(std::uint64_t offset, std::span<std::uint8_t> out) const {
  if (offset > data_.size() || out.size() > data_.size() - offset) {
    throw InternalError("read past the end of the data");
  }
  if (out.empty()) return;
  std::memcpy(out.data(), data_.data() + offset, out.size());
}

void verity_hash_block(HashAlg alg, std::uint32_t hash_type, std::span<const std::uint8_t> salt,
                       std::span<const std::uint8_t> block, std::uint8_t* out) {
  Hasher h(alg);
  hash_one(h, hash_type, salt, block, out);
}

VerityTree build_tree(const VerityGeometry& g, const DataSource& data, const TreeOptions& options) {
  const VerityParams& p = g.params;
  const std::uint64_t need = g.data_bytes();
  std::uint64_t valid_end = need;
  if (data.size() < need) {
    if (!options.pad_tail || data.size() <= need - p.data_block_size) {
      throw ValueError("the data holds " + std::to_string(data.size()) + " bytes, " +
                       std::to_string(p.data_blocks) + " blocks of " +
                       std::to_string(p.data_block_size) + " need " + std::to_string(need));
    }
    valid_end = data.size();
  }
  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;

  VerityTree tree;
  tree.hash_area.assign(static_cast<std::size_t>(g.area_size()), 0);
  std::uint8_t* area = tree.hash_area.data();
  auto level_ptr = [&](std::size_t level) {
    return area + (g.level_offset(level) - g.area_offset);
  };

  if (p.superblock) {
    Bytes sb = encode_superblock(p);
    std::memcpy(area, sb.data(), sb.size());
  }
  tree.root_hash.resize(g.digest_size);
  if (g.levels.empty()) {  // N = 1: the root is the digest of the only data block
    Bytes block(p.data_block_size, 0);
    data.read(0, std::span<std::uint8_t>(
                     block.data(),
                     static_cast<std::size_t>(std::min<std::uint64_t>(valid_end, block.size()))));
    verity_hash_block(p.hash, p.hash_type, p.salt, block, tree.root_hash.data());
    return tree;
  }
  run_level(
      {&g, &data, 0, p.data_blocks, p.data_block_size, valid_end, level_ptr(0), options.progress},
      threads);
  SpanSource area_source(tree.hash_area);
  for (std::size_t i = 1; i < g.levels.size(); ++i) {
    const std::uint64_t base = g.level_offset(i - 1) - g.area_offset;
    const std::uint64_t count = g.levels[i - 1].blocks;
    run_level({&g, &area_source, base, count, p.hash_block_size, base + count * p.hash_block_size,
               level_ptr(i), nullptr},
              threads);
  }
  std::span<const std::uint8_t> top(level_ptr(g.levels.size() - 1), p.hash_block_size);
  verity_hash_block(p.hash, p.hash_type, p.salt, top, tree.root_hash.data());
  return tree;
}

}  // namespace mkguest::verity
