// CoCo init-data documents (the Initdata Specification, confidential-containers/
// trustee kbs/docs/initdata.md at 79722e75; Kata's reader kata-containers
// src/libs/kata-types/src/initdata.rs at aa968e74). See docs/kata.md §1.
//
// Layout: a UTF-8 TOML document with exactly three top-level keys,
//   version   = "0.1.0"                     (string; the only version defined)
//   algorithm = "sha256" | "sha384" | "sha512"
//   [data]      a table whose every value is a string (key -> file content)
// The document is passed to the guest byte for byte (Kata's annotation, then
// the initdata block device), and what the hardware binds is the digest of
// those very bytes: no re-serialisation, no canonical form. So the reader keeps
// the original bytes and the writer's rendering is the document.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/digest.h"

namespace mkguest::initdata {

// The one version the specification defines.
inline constexpr std::string_view kVersion = "0.1.0";
// Kata's pod annotation that carries the document (base64 of its gzip).
inline constexpr std::string_view kAnnotation = "io.katacontainers.config.hypervisor.cc_init_data";

// A place in the TOML text, 1-based (column in characters, as toml++ counts).
struct TextPlace {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::string str() const { return std::to_string(line) + ":" + std::to_string(column); }
};

struct Document {
  std::string version;
  HashAlg algorithm = HashAlg::kSha256;
  TextPlace algorithm_place;  // where the algorithm's value stands (for binding errors)
  // The data table, in the order of the text.
  std::vector<std::pair<std::string, std::string>> data;
  // The document exactly as read: what is hashed and what the guest receives.
  std::vector<std::uint8_t> bytes;
};

// Parses and validates a document. Throws InputError "source:line:col: error:"
// for a TOML syntax error, a missing or unknown top-level key, a value of the
// wrong type, an unsupported version or algorithm, and for bytes that are not
// UTF-8 (an offset error: "source:0xOFF").
Document parse(std::span<const std::uint8_t> bytes, const std::string& source);

// The init-data document mkguest writes for an inline recipe mapping:
//   version = "0.1.0"\nalgorithm = "ALG"\n\n[data]\n"KEY" = "VALUE"\n...
// keys in the order given, every key and value as a TOML basic string (quote,
// backslash and control characters escaped; other characters as UTF-8). The
// same inputs give the same bytes. Throws ValueError for a string that is
// not UTF-8.
std::string render(HashAlg algorithm, const std::vector<std::pair<std::string, std::string>>& data);

// Kata's annotation value: standard base64 (with padding) of the gzip of the
// document, the gzip header holding no name and MTIME 0 (base/sink.h), so the
// same document always gives the same value.
std::string annotation_value(std::span<const std::uint8_t> document);

}  // namespace mkguest::initdata
