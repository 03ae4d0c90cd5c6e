// `mkguest inspect` for IBM SE images and headers (see inspect_se.cpp).
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace mkguest::cli {

bool looks_like_se(std::span<const std::uint8_t> head);
void inspect_se(const std::string& file, const std::string& hdr_key_file,
                const std::string& host_key_file, bool json);

}  // namespace mkguest::cli
