// The inputs of the IBM SE golden runs (tests/vectors/se/README.md, "Inputs"
// and "Runs"), shared by the SE image tests and the empty-value CLI tests.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "base/file.h"
#include "tests/test_util.h"

namespace mkguest::test {

inline std::filesystem::path se_vector(const std::string& n) {
  return source_dir() / "tests/vectors/se" / n;
}

// Byte i = (mul * i + add) mod 256.
inline Bytes se_pattern(std::size_t n, unsigned mul, unsigned add) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * mul + add) % 256);
  return b;
}

// The inputs of tests/vectors/se/README.md, written into `d`.
inline void write_se_inputs(const std::filesystem::path& d) {
  Bytes k = se_pattern(1048576, 13, 1);
  std::copy_n("S390EP", 6, k.begin() + 0x10008);
  write_file(d / "kernel", k);
  write_file(d / "parmfile", std::string("console=ttysclp0 root=/dev/vda1"));
  write_file(d / "initrd", std::string(10000, 'I'));
  write_file(d / "cck", Bytes(32, 0x11));
  write_file(d / "hk", Bytes(32, 0x33));
  write_file(d / "ik", se_pattern(64, 1, 0x20));
  write_file(d / "stage3a.bin", se_pattern(9912, 7, 3));
  write_file(d / "stage3b_reloc.bin", se_pattern(5860, 7, 3));
  Bytes iv;
  REQUIRE(from_hex("f703110a39edaac4371ca2e2", &iv));
  write_file(d / "iv", iv);
}

// The arguments of golden run b (-i kernel -k host.crt COMMON, 3 components),
// writing d/out.img and d/out.hdr; its image has sha256 kSeRunBImage.
inline std::vector<std::string> se_run_b_args(const std::filesystem::path& d) {
  return {"se",
          "build",
          "-i",
          (d / "kernel").string(),
          "--stage3a",
          (d / "stage3a.bin").string(),
          "--stage3b",
          (d / "stage3b_reloc.bin").string(),
          "--no-verify",
          "-p",
          (d / "parmfile").string(),
          "--comm-key",
          (d / "cck").string(),
          "--x-comp-key",
          (d / "ik").string(),
          "--x-header-key",
          (d / "hk").string(),
          "--x-test-iv",
          (d / "iv").string(),
          "-k",
          se_vector("host.crt").string(),
          "--x-test-ephemeral-key",
          se_vector("eph.pem").string(),
          "--x-test-tweaks",
          "784b3d26cf50,442b270360e5,ce0089374ac8",
          "-o",
          (d / "out.img").string(),
          "--hdr-out",
          (d / "out.hdr").string(),
          "--json"};
}
inline constexpr const char* kSeRunBImage =
    "680d9a9b6716581c59e74d7ef7c0af9574c3e0d28eea31b39c3841b829936dc4";

}  // namespace mkguest::test
