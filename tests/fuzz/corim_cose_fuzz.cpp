// Fuzz target: a signed CoRIM as `verify-signature` reads it (CBOR through
// libcbor with the depth/definite-length pre-scan of builder/attest/cbor ->
// COSE_Sign1 shape -> protected header -> CoRIM payload -> signature check
// with one Ed25519 key). Any input must verify, fail to verify, or throw a
// mkguest Error; nothing else (crash, other exception, deep recursion).
// Seeds (tests/corpus/corim_cose/): a CoRIM signed with the key below
// (`mkguest export corim --key K` over tests/golden/coco-guest/manifest.json,
// the private key discarded), the unsigned CoRIM, and short malformed inputs.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "builder/attest/cose.h"

namespace {
constexpr std::string_view kPublicKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAwqGoaqlB9vkkSHJePS0lLJYpa/+OLpTrZSAQCt4zPco=\n"
    "-----END PUBLIC KEY-----\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mkguest;
  static const std::vector<keys::Verifier>* keys = [] {
    auto* v = new std::vector<keys::Verifier>();
    v->push_back(keys::Verifier::from_pem(
        std::span(reinterpret_cast<const std::uint8_t*>(kPublicKey.data()), kPublicKey.size()),
        "fuzz.pub"));
    return v;
  }();
  try {
    attest::corim_verify(std::span(data, size), *keys, "fuzz.cose");
  } catch (const Error&) {
  }
  return 0;
}
