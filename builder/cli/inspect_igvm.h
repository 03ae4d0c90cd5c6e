// `mkguest inspect` for IGVM files (see inspect_igvm.cpp).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

namespace mkguest::cli {

bool looks_like_igvm(std::span<const std::uint8_t> head);
// The file's headers as JSON: fixed header, platforms, initialization
// headers, every directive, and the page-data runs.
nlohmann::json igvm_json(std::span<const std::uint8_t> bytes, const std::string& file);
void inspect_igvm(std::span<const std::uint8_t> bytes, const std::string& file, bool json);

}  // namespace mkguest::cli
