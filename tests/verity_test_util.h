// Helpers for the verity tests (header-only): deterministic data and
// veritysetup (cryptsetup-bin 2.6.1) runs.
#pragma once

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "base/byte_writer.h"
#include "base/digest.h"
#include "tests/test_util.h"
#include "verity/derive.h"
#include "verity/geometry.h"

namespace mkguest::test {

// `size` bytes of incompressible, seed-dependent data (splitmix64),
// with a few all-zero blocks so zero blocks are covered too.
Bytes pattern_data(std::uint64_t size, std::uint64_t seed);

// veritysetup's options for these parameters (also accepted by mkguest verity).
std::vector<std::string> veritysetup_options(const verity::VerityParams& p);

// Runs `veritysetup format DATA HASH <options>` (HASH removed first unless it is
// DATA) and returns the root hash it prints; fails the test on error.
std::string veritysetup_format(const std::filesystem::path& data, const std::filesystem::path& hash,
                               const verity::VerityParams& p);

// `veritysetup verify DATA HASH ROOT <options>`: its exit code.
int veritysetup_verify(const std::filesystem::path& data, const std::filesystem::path& hash,
                       const std::string& root, const verity::VerityParams& p);

// Definitions.

inline Bytes pattern_data(std::uint64_t size, std::uint64_t seed) {
  Bytes out(static_cast<std::size_t>(size));
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (std::size_t off = 0; off < out.size(); off += 8) {
    // splitmix64
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    std::uint8_t w[8];
    store_le64(w, z);
    std::memcpy(out.data() + off, w, std::min<std::size_t>(8, out.size() - off));
  }
  // Zero every 5th 4 KiB stretch.
  for (std::size_t off = 4096; off < out.size(); off += 5 * 4096) {
    std::memset(out.data() + off, 0, std::min<std::size_t>(4096, out.size() - off));
  }
  return out;
}

inline std::vector<std::string> veritysetup_options(const verity::VerityParams& p) {
  std::vector<std::string> o = {"--hash=" + std::string(hash_name(p.hash)),
                                "--format=" + std::to_string(p.hash_type),
                                "--data-block-size=" + std::to_string(p.data_block_size),
                                "--hash-block-size=" + std::to_string(p.hash_block_size),
                                "--data-blocks=" + std::to_string(p.data_blocks),
                                "--hash-offset=" + std::to_string(p.hash_offset),
                                "--salt=" + (p.salt.empty() ? std::string("-") : to_hex(p.salt))};
  if (p.superblock) {
    o.push_back("--uuid=" + verity::format_uuid(p.uuid));
  } else {
    o.push_back("--no-superblock");
  }
  return o;
}

inline std::string veritysetup_format(const std::filesystem::path& data,
                                      const std::filesystem::path& hash,
                                      const verity::VerityParams& p) {
  if (data != hash) std::filesystem::remove(hash);
  std::vector<std::string> argv = {"veritysetup", "format", data.string(), hash.string()};
  auto more = veritysetup_options(p);
  argv.insert(argv.end(), more.begin(), more.end());
  RunResult r = run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto at = r.out.find("Root hash:");
  REQUIRE(at != std::string::npos);
  auto tab = r.out.find('\t', at);
  auto nl = r.out.find('\n', tab);
  return r.out.substr(tab + 1, nl - tab - 1);
}

inline int veritysetup_verify(const std::filesystem::path& data, const std::filesystem::path& hash,
                              const std::string& root, const verity::VerityParams& p) {
  std::vector<std::string> argv = {"veritysetup", "verify", data.string(), hash.string(), root};
  auto more = veritysetup_options(p);
  if (p.superblock) {  // parameters come from the superblock
    more = {"--hash-offset=" + std::to_string(p.hash_offset)};
  }
  argv.insert(argv.end(), more.begin(), more.end());
  return run(argv).exit_code;
}

}  // namespace mkguest::test
