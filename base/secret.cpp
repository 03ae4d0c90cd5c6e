#include "base/secret.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <cstdio>

#include "base/file.h"

namespace mkguest {

SecretBytes::SecretBytes(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {
  if (bytes_.empty()) return;
  if (bytes_.capacity() > bytes_.size()) {
    bytes_.push_back(0);  // no reallocation: no copy left behind
    return;
  }
  std::vector<std::uint8_t> with_nul;
  with_nul.reserve(bytes_.size() + 1);
  with_nul.assign(bytes_.begin(), bytes_.end());
  with_nul.push_back(0);
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_ = std::move(with_nul);
}

SecretBytes::SecretBytes(std::string_view text) {
  if (text.empty()) return;
  bytes_.reserve(text.size() + 1);
  bytes_.assign(text.begin(), text.end());
  bytes_.push_back(0);
}

SecretBytes::SecretBytes(SecretBytes&& o) noexcept : bytes_(std::move(o.bytes_)) {
  o.bytes_.clear();
}

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
  if (this != &o) {
    wipe();
    bytes_ = std::move(o.bytes_);
    o.bytes_.clear();
  }
  return *this;
}

void SecretBytes::wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
  bytes_.clear();
}

SecretBytes read_secret_file(const std::filesystem::path& path, const std::string& display,
                             const std::function<void(const std::string&)>& warn) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) && warn) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    warn("key file " + display + " is accessible by group or others (mode " + mode +
         "); restrict it with chmod 600");
  }
  MappedFile m(path);
  std::vector<std::uint8_t> b;
  b.reserve(m.size() + 1);
  b.assign(m.bytes().begin(), m.bytes().end());
  return SecretBytes(std::move(b));
}

}  // namespace mkguest
