// Helpers of the attestation exports; see attest_util.h.
#include "builder/manifest/json_util.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "base/error.h"

namespace mkguest::attest {

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

void collect(const json& v, std::vector<std::string>* out) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (std::find(out->begin(), out->end(), s) == out->end()) out->push_back(std::move(s));
  } else if (v.is_array() || v.is_object()) {
    for (const auto& e : v) collect(e, out);
  }
}
}  // namespace

std::string base64_encode(std::span<const std::uint8_t> data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  std::size_t rest = data.size() - i;
  if (rest == 1) {
    std::uint32_t v = data[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string base64_encode(std::string_view data) { return base64_encode(as_bytes(data)); }

bool base64_decode(std::string_view text, Bytes* out) {
  out->clear();
  if (text.size() % 4) return false;
  out->reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad) return false;  // data after padding
      v[k] = b64_value(c);
      if (v[k] < 0) return false;
    }
    std::uint32_t w = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    // Non-canonical encodings (bits set in the padding) are rejected.
    if (pad == 2 && (w & 0xffff)) return false;
    if (pad == 1 && (w & 0xff)) return false;
    out->push_back(static_cast<std::uint8_t>(w >> 16));
    if (pad < 2) out->push_back(static_cast<std::uint8_t>(w >> 8));
    if (pad < 1) out->push_back(static_cast<std::uint8_t>(w));
  }
  return true;
}

std::string canonical_json(const json& value) { return value.dump(2) + "\n"; }

json parse_manifest(std::string_view text, const std::string& source) {
  json m = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded()) throw file_error(source, "not valid JSON");
  if (!m.is_object()) throw file_error(source, "a manifest is a JSON object");
  const json* v = find(m, {"manifest_version"});
  if (!v || !v->is_number_integer() || v->get<std::int64_t>() != 1)
    throw file_error(source, "unsupported manifest_version (this mkguest reads version 1)");
  return m;
}

const json* find(const json& value, std::initializer_list<std::string_view> path) {
  const json* cur = &value;
  for (auto key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(std::string(key));
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string find_string(const json& value, std::initializer_list<std::string_view> path,
                        const std::string& fallback) {
  const json* v = find(value, path);
  return v && v->is_string() ? v->get<std::string>() : fallback;
}

std::vector<std::string> collect_strings(const json& value) {
  std::vector<std::string> out;
  collect(value, &out);
  return out;
}

bool is_hex(std::string_view s) {
  if (s.empty() || s.size() % 2) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}

std::string rfc3339_utc(std::int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t manifest_epoch(const json& manifest) {
  const json* v = find(manifest, {"source_date_epoch"});
  return v && v->is_number_integer() ? v->get<std::int64_t>() : 0;
}

}  // namespace mkguest::attest
