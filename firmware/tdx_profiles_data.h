// The shipped TDX host profiles (firmware/profiles/*.yaml), compiled in by
// CMake (firmware/profiles/embed.cmake) so the binary needs no data files.
#pragma once

#include <string>
#include <vector>

namespace mkguest::tdx::profiles_data {

struct File {
  std::string name;  // file name, e.g. "edk2-202411-qemu9.yaml"
  std::string text;
};

const std::vector<File>& files();

}  // namespace mkguest::tdx::profiles_data
