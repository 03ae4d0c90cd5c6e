// The IGVM test files, written once per test run by the independent writer
// (tests/builder/formats/igvm/igvm_writer.py shapes DIR): snp-basic,
// tdx-basic, multi (SNP + TDX + native), rev2-2m (revision 2, 2 MiB pages,
// an optional unknown header), ms-basic (microsoft/igvm's igvm_c test file)
// vsm (a VBS VP context) and rev2-cca (revision 2, aarch64, Arm CCA).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

#include "tests/test_util.h"

namespace mkguest::test {

inline const std::filesystem::path kIgvmWriter =
    source_dir() / "tests/builder/formats/igvm/igvm_writer.py";

struct IgvmShapes {
  TempDir dir;
  std::filesystem::path path;
  IgvmShapes() : path(dir.path()) {
    const auto r = run({"/usr/bin/python3", kIgvmWriter.string(), "shapes", path.string()});
    if (r.exit_code != 0) throw std::runtime_error("igvm_writer.py shapes failed: " + r.err);
  }
};

inline const IgvmShapes& igvm_shapes() {
  static const IgvmShapes s;
  return s;
}

inline std::uint32_t load_le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
         std::uint32_t{p[3]} << 24;
}

}  // namespace mkguest::test
