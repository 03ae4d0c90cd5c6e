// Errors carry their context (source and place) and map to documented exit codes.
// Library code throws; only main() catches and turns an error into an exit code.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace mkguest {

// Exit codes, documented in README.md and `mkguest --help`.
enum class ExitCode : int {
  kOk = 0,
  kUsage = 1,     // bad command line
  kInput = 2,     // bad input: recipe, firmware, archive, key...
  kInternal = 3,  // a bug or an environment failure (I/O, OpenSSL)
  kMismatch = 1,  // verify-style commands: the check ran and failed
};

// Base of every mkguest error. what() is the full, ready-to-print text;
// message() the message alone, without "error: " or a place. Code acts on the
// error's type, never on its text.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& text, std::string message)
      : std::runtime_error(text), code_(code), message_(std::move(message)) {}
  ExitCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ExitCode code_;
  std::string message_;
};

// A bad command line. Thrown only in builder/cli (scripts/check-error-layers).
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& msg) : Error(ExitCode::kUsage, "error: " + msg, msg) {}
};

// A parameter value a library refuses where the library does not know where
// the value came from (a verity salt too long, an unknown TDX profile, a bad
// partition name...). Whoever passed the value names its place: the pipeline
// turns it into an InputError at the recipe line, builder/cli reports it as a
// usage error (exit 1, "error: MESSAGE"), the code it carries.
class ValueError : public Error {
 public:
  explicit ValueError(const std::string& msg) : Error(ExitCode::kUsage, "error: " + msg, msg) {}
};

// Bad input. Rendered as "SOURCE:PLACE: error: MESSAGE" followed by an optional
// detail block (for recipes: the offending line and a caret).
class InputError : public Error {
 public:
  InputError(std::string source, std::string place, std::string message, std::string detail = {});
  const std::string& source() const { return source_; }
  const std::string& place() const { return place_; }

 private:
  std::string source_;
  std::string place_;
};

// An error at a byte offset of a binary input: "file:0x1ffc0: error: ...".
InputError offset_error(const std::string& source, std::uint64_t offset,
                        const std::string& message);

// An error about a whole input that has no finer place: "file: error: ...".
InputError file_error(const std::string& source, const std::string& message);

// An environment or library failure (I/O, OpenSSL): exit code 3.
class InternalError : public Error {
 public:
  explicit InternalError(const std::string& msg)
      : Error(ExitCode::kInternal, "internal error: " + msg, msg) {}
};

// Formats an offset the way every error names it: 0x1ffc0.
std::string hex_offset(std::uint64_t offset);

}  // namespace mkguest
