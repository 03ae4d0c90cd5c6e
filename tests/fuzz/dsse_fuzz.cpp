// Fuzz target: a DSSE envelope as `verify-signature` reads it (JSON text ->
// shape checks -> base64 -> PAE -> signature checks with one Ed25519 key).
// Any input must verify, fail to verify, or throw a mkguest Error; nothing
// else (crash, other exception, a hang on many signatures).
// Seeds (tests/corpus/dsse/): an envelope that verifies with the key below
// (`mkguest sign --key K --payload-type application/vnd.test m.json`, the
// private key discarded) and mutants of it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "builder/attest/dsse.h"
#include "builder/manifest/json_util.h"

namespace {
constexpr std::string_view kPublicKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAv2FsGE1suzHYZP1bRn7vYJSxgRs/yTjrsCN/Y2UuHPo=\n"
    "-----END PUBLIC KEY-----\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mkguest;
  static const std::vector<attest::Verifier>* keys = [] {
    auto* v = new std::vector<attest::Verifier>();
    v->push_back(attest::Verifier::from_pem(
        std::span(reinterpret_cast<const std::uint8_t*>(kPublicKey.data()), kPublicKey.size()),
        "fuzz.pub"));
    return v;
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    nlohmann::json envelope =
        nlohmann::json::parse(text, nullptr, false);  // as verify-signature reads it
    if (envelope.is_discarded()) return 0;
    attest::dsse_verify(envelope, *keys, "fuzz.dsse.json");
  } catch (const Error&) {
  }
  return 0;
}
