// Deterministic salt/UUID derivation (see derive.h for the function).
#include "verity/derive.h"

#include <algorithm>
#include <cstring>

#include "base/byte_writer.h"

namespace mkguest::verity {

namespace {

Bytes derive_block(std::string_view label, std::uint32_t counter, std::string_view seed,
                   std::span<const std::uint8_t> context) {
  std::uint8_t sep[1] = {0}, num[8];
  Hasher h(HashAlg::kSha256);
  h.update(label).update(sep);
  store_be32(num, counter);
  h.update(std::span<const std::uint8_t>(num, 4));
  store_be64(num, seed.size());
  h.update(std::span<const std::uint8_t>(num, 8)).update(seed);
  store_be64(num, context.size());
  h.update(std::span<const std::uint8_t>(num, 8)).update(context);
  return h.finish();
}

}  // namespace

Bytes derive_salt(std::string_view seed, std::span<const std::uint8_t> context, std::size_t size) {
  Bytes out(size);
  for (std::size_t done = 0, i = 0; done < size; ++i) {
    Bytes b = derive_block("mkguest verity salt", static_cast<std::uint32_t>(i), seed, context);
    std::size_t n = std::min(b.size(), size - done);
    std::memcpy(out.data() + done, b.data(), n);
    done += n;
  }
  return out;
}

Uuid derive_uuid(std::string_view seed, std::span<const std::uint8_t> context) {
  Bytes b = derive_block("mkguest verity uuid", 0, seed, context);
  Uuid u;
  std::memcpy(u.data(), b.data(), u.size());
  u[6] = static_cast<std::uint8_t>((u[6] & 0x0f) | 0x40);  // version 4
  u[8] = static_cast<std::uint8_t>((u[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return u;
}

std::string format_uuid(const Uuid& uuid) {
  std::string hex = to_hex(uuid);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::optional<Uuid> parse_uuid(std::string_view text) {
  std::string hex;
  if (text.size() == 36) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash != (text[i] == '-')) return std::nullopt;
      if (!dash) hex += text[i];
    }
  } else if (text.size() == 32) {
    hex = text;
  } else {
    return std::nullopt;
  }
  Bytes b;
  if (!from_hex(hex, &b)) return std::nullopt;
  Uuid u;
  std::memcpy(u.data(), b.data(), u.size());
  return u;
}

}  // namespace mkguest::verity
