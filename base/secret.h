// Secret bytes (keys, passphrases, PINs) that are wiped with OPENSSL_cleanse
// when they go out of scope, and the one way a key file is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mkguest {

// Owns secret bytes; wipes them on destruction and when moved from. Not
// copyable. The bytes are followed by a NUL that size() does not count, so a
// passphrase or PIN can go to C interfaces without an unwiped copy.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::vector<std::uint8_t> bytes);
  explicit SecretBytes(std::string_view text);
  ~SecretBytes() { wipe(); }
  SecretBytes(SecretBytes&& o) noexcept;
  SecretBytes& operator=(SecretBytes&& o) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  std::size_t size() const { return bytes_.empty() ? 0 : bytes_.size() - 1; }
  bool empty() const { return size() == 0; }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::span<const std::uint8_t> bytes() const { return {bytes_.data(), size()}; }
  operator std::span<const std::uint8_t>() const { return bytes(); }
  std::string_view view() const { return {reinterpret_cast<const char*>(data()), size()}; }
  // NUL-terminated; "" when empty.
  const char* c_str() const { return empty() ? "" : reinterpret_cast<const char*>(data()); }

 private:
  void wipe();
  std::vector<std::uint8_t> bytes_;  // the secret and a NUL, or nothing
};

// Reads a key file. Calls `warn` ("key file NAME is accessible by group or
// others (mode 0644); restrict it with chmod 600") when group or others may
// access it.
SecretBytes read_secret_file(const std::filesystem::path& path, const std::string& display,
                             const std::function<void(const std::string&)>& warn);

}  // namespace mkguest
