#include "base/error.h"

#include "base/encoding.h"

namespace mkguest {

namespace {
std::string render(const std::string& source, const std::string& place, const std::string& message,
                   const std::string& detail) {
  std::string out = source;
  if (!place.empty()) out += ":" + place;
  out += ": error: " + message;
  if (!detail.empty()) out += "\n" + detail;
  return out;
}
}  // namespace

InputError::InputError(std::string source, std::string place, std::string message,
                       std::string detail)
    : Error(ExitCode::kInput, render(source, place, message, detail), message),
      source_(std::move(source)),
      place_(std::move(place)) {}

std::string hex_offset(std::uint64_t offset) { return hex_u64(offset); }

InputError offset_error(const std::string& source, std::uint64_t offset,
                        const std::string& message) {
  return InputError(source, hex_offset(offset), message);
}

InputError file_error(const std::string& source, const std::string& message) {
  return InputError(source, "", message);
}

}  // namespace mkguest
