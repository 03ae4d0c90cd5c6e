// DSSE envelopes over the signing keys of builder/keys; see dsse.h.
#include "builder/attest/dsse.h"

#include "base/error.h"

namespace mkguest::attest {

Bytes dsse_pae(std::string_view type, std::span<const std::uint8_t> payload) {
  std::string head = "DSSEv1 " + std::to_string(type.size()) + " " + std::string(type) + " " +
                     std::to_string(payload.size()) + " ";
  Bytes out(head.begin(), head.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

json dsse_sign(const Signer& signer, std::string_view type, std::span<const std::uint8_t> payload) {
  Bytes sig = signer.sign(dsse_pae(type, payload));
  return json{
      {"payload", base64_encode(payload)},
      {"payloadType", std::string(type)},
      {"signatures", json::array({json{{"keyid", signer.keyid()}, {"sig", base64_encode(sig)}}})}};
}

DsseResult dsse_verify(const json& env, const std::vector<Verifier>& keys,
                       const std::string& source) {
  const json* payload = find(env, {"payload"});
  const json* type = find(env, {"payloadType"});
  const json* sigs = find(env, {"signatures"});
  if (!payload || !payload->is_string() || !type || !type->is_string() || !sigs ||
      !sigs->is_array())
    throw file_error(source, "not a DSSE envelope (payload, payloadType, signatures)");
  DsseResult r;
  r.payload_type = type->get<std::string>();
  if (!base64_decode(payload->get<std::string>(), &r.payload))
    throw file_error(source, "the DSSE payload is not base64");
  if (sigs->size() > kDsseMaxSignatures)
    throw file_error(source, "the DSSE envelope has " + std::to_string(sigs->size()) +
                                 " signatures; at most " + std::to_string(kDsseMaxSignatures) +
                                 " are read");
  if (sigs->empty()) {
    r.problem = "the envelope has no signature";
    return r;
  }
  Bytes pae = dsse_pae(r.payload_type, r.payload);
  r.problem = "no signature verifies with the given key(s)";
  for (const auto& s : *sigs) {
    const json* sig = find(s, {"sig"});
    Bytes raw;
    if (!sig || !sig->is_string() || !base64_decode(sig->get<std::string>(), &raw))
      throw file_error(source, "a DSSE signature is not base64");
    // keyid is an unauthenticated hint (DSSE spec): every key is tried, so
    // that envelopes from other signers (cosign...) with other keyids verify.
    for (const auto& k : keys) {
      if (k.verify(pae, raw)) {
        r.ok = true;
        r.keyid = k.keyid();
        r.problem.clear();
        return r;
      }
    }
  }
  return r;
}

}  // namespace mkguest::attest
