// Quoted PCR values: tpm2_pcrread YAML and sysfs pcr-<bank>/<N> (see pcr_values.h).
#include "builder/formats/evidence/pcr_values.h"

#include "base/encoding.h"
#include "base/error.h"
#include "builder/formats/evidence/tcg_log.h"

namespace mkguest::evidence {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail_line(const std::string& source, std::size_t line, const std::string& msg) {
  throw InputError(source, std::to_string(line), msg);
}

bool parse_hex_digest(std::string_view hex, HashAlg bank, Bytes* out) {
  if (hex.size() != 2 * hash_size(bank)) return false;
  return from_hex(hex, out);
}

}  // namespace

PcrValues parse_pcrread_yaml(std::string_view text, const std::string& source) {
  PcrValues out;
  HashAlg bank{};
  bool in_bank = false;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    const std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      fail_line(source, line_no, "expected \"<bank>:\" or \"<pcr> : 0x<digest>\"");
    const std::string_view key = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (value.empty()) {
      if (!parse_hash_alg(key, &bank))
        fail_line(source, line_no,
                  "unknown PCR bank \"" + std::string(key) + "\" (sha1, sha256, sha384 or sha512)");
      if (out.count(bank)) fail_line(source, line_no, "bank " + std::string(key) + " twice");
      out[bank];
      in_bank = true;
      continue;
    }
    if (!in_bank) fail_line(source, line_no, "a PCR value before any \"<bank>:\" line");
    unsigned pcr = 0;
    if (key.empty() || key.size() > 2 || key.find_first_not_of("0123456789") != key.npos ||
        (pcr = static_cast<unsigned>(std::stoul(std::string(key)))) >= kTpmPcrCount)
      fail_line(source, line_no, "\"" + std::string(key) + "\" is not a PCR index 0..23");
    if (value.size() < 2 || value[0] != '0' || (value[1] != 'x' && value[1] != 'X'))
      fail_line(source, line_no, "PCR " + std::to_string(pcr) + ": the value is not 0x<hex>");
    Bytes d;
    if (!parse_hex_digest(value.substr(2), bank, &d))
      fail_line(source, line_no,
                "PCR " + std::to_string(pcr) + ": not a " + std::string(hash_name(bank)) +
                    " digest (" + std::to_string(2 * hash_size(bank)) + " hex digits)");
    if (!out[bank].emplace(pcr, std::move(d)).second)
      fail_line(source, line_no, "PCR " + std::to_string(pcr) + " twice in this bank");
  }
  if (out.empty()) throw file_error(source, "no PCR bank (not tpm2_pcrread output)");
  return out;
}

Bytes parse_sysfs_pcr(std::string_view text, const std::string& source, HashAlg bank) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  Bytes d;
  if (!parse_hex_digest(text, bank, &d))
    throw InputError(source, "1",
                     "not a " + std::string(hash_name(bank)) + " PCR value (" +
                         std::to_string(2 * hash_size(bank)) + " hex digits and a newline)");
  return d;
}

}  // namespace mkguest::evidence
