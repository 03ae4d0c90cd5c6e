// `mkguest sign` and `mkguest verify-signature`: DSSE envelopes over a
// manifest or an in-toto statement (see builder/attest/dsse.h, docs/attestation.md).
// Key material is read into memory once as SecretBytes (wiped); it is never
// printed.
#include <iostream>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/attest/cose.h"
#include "builder/attest/dsse.h"
#include "builder/attest/provenance.h"
#include "builder/cli/attest_io.h"
#include "builder/cli/commands.h"

namespace mkguest::cli {

namespace fs = std::filesystem;
using attest::json;

namespace {

std::string default_payload_type(const Bytes& payload) {
  json j = json::parse(payload.begin(), payload.end(), nullptr, false);
  if (j.is_object() && attest::find_string(j, {"_type"}) == attest::kStatementType)
    return attest::kInTotoPayloadType;
  if (j.is_object() && attest::find(j, {"manifest_version"})) return attest::kManifestPayloadType;
  return "application/octet-stream";
}

struct SignArgs {
  std::string file, key, cert, payload_type, passphrase_env, output, pkcs11_module;
  bool force = false;
};

void run_sign(const SignArgs& a) {
  Bytes payload = read_file(a.file);
  std::string type = a.payload_type.empty() ? default_payload_type(payload) : a.payload_type;
  keys::SignerRequest req{a.key, {}, a.pkcs11_module, secret_from_env(a.passphrase_env)};
  const keys::Signer signer = keys::load_signer(req, warn);
  if (!a.cert.empty()) signer.check_certificate(read_file(a.cert), a.cert);
  json env = attest::dsse_sign(signer, type, payload);
  std::string out = a.output.empty() ? a.file + ".dsse.json" : a.output;
  write_output(out, attest::canonical_json(env), a.force);
  std::cerr << "mkguest: signed " << a.file << " (" << type << ") with key " << signer.keyid()
            << "\n";
}

struct VerifyArgs {
  std::string envelope, payload, payload_out, ca;
  std::vector<std::string> keys;
  std::string cert;
  bool force = false;
};

void run_verify_signature(const VerifyArgs& a) {
  if (a.keys.empty() && a.cert.empty()) throw UsageError("give --key or --cert");
  std::vector<keys::Verifier> verifiers;
  for (const auto& k : a.keys) {
    const SecretBytes pem(read_file(k));  // wiped, should it be a (refused) private key
    verifiers.push_back(keys::Verifier::from_pem(pem, k));
  }
  if (!a.cert.empty()) {
    Bytes pem = read_file(a.cert);
    if (!a.ca.empty()) {
      std::string why = keys::verify_certificate_chain(pem, read_file(a.ca));
      if (!why.empty()) {
        std::cout << a.envelope << ": FAILED: certificate " << a.cert << ": " << why << "\n";
        set_exit_code(static_cast<int>(ExitCode::kMismatch));
        return;
      }
    }
    verifiers.push_back(keys::Verifier::from_pem(pem, a.cert));
  }
  attest::DsseResult r;
  Bytes raw = read_file(a.envelope);
  if (attest::looks_like_cose_sign1(raw)) {  // a signed CoRIM (docs/corim.md)
    attest::CoseResult c = attest::corim_verify(raw, verifiers, a.envelope);
    r.ok = c.ok;
    r.payload_type = attest::kCorimContentType;
    r.payload = std::move(c.payload);
    r.keyid = c.keyid;
    r.problem = c.problem;
  } else {
    json env = json::parse(raw.begin(), raw.end(), nullptr, false);
    if (env.is_discarded()) throw file_error(a.envelope, "not valid JSON");
    r = attest::dsse_verify(env, verifiers, a.envelope);
  }
  if (r.ok && !a.payload.empty() && read_file(a.payload) != r.payload) {
    r.ok = false;
    r.problem = "the signed payload is not the bytes of " + a.payload;
  }
  if (!r.ok) {
    std::cout << a.envelope << ": FAILED: " << r.problem << "\n";
    set_exit_code(static_cast<int>(ExitCode::kMismatch));
    return;
  }
  if (!a.payload_out.empty()) write_file_atomic(a.payload_out, r.payload, a.force);
  std::cout << a.envelope << ": OK (" << r.payload_type << ", key " << r.keyid << ")\n";
}

}  // namespace

void register_sign(CLI::App& app) {
  auto s = std::make_shared<SignArgs>();
  auto* sign = app.add_subcommand(
      "sign", "Sign a manifest or an in-toto statement as a DSSE envelope (FILE.dsse.json)");
  sign->add_option("FILE", s->file, "the file to sign (manifest.json, a statement...)")
      ->required()
      ->check(CLI::ExistingFile);
  sign->add_option("--key", s->key,
                   "PEM private key (RSA >= 2048, ECDSA P-256/384/521, Ed25519), or a\n"
                   "PKCS#11 URI pkcs11:token=..;object=.. (OpenSSL pkcs11 engine)")
      ->required();
  sign->add_option("--pkcs11-module", s->pkcs11_module,
                   "PKCS#11 library for a pkcs11: key (default: the engine's, p11-kit)");
  sign->add_option("--cert", s->cert, "X.509 certificate (PEM) that must match the key");
  sign->add_option("--passphrase-env", s->passphrase_env,
                   "name of an environment variable holding the key's passphrase\n"
                   "(or the token PIN for a pkcs11: key)");
  sign->add_option("--payload-type", s->payload_type,
                   "DSSE payloadType (default: from the content: in-toto or mkguest manifest)");
  sign->add_option("-o,--output", s->output, "envelope file (default: FILE.dsse.json)");
  sign->add_flag("--force", s->force,
                 "replace a symlink, device node or FIFO at the output (never written through)");
  sign->callback([s] { run_sign(*s); });

  auto v = std::make_shared<VerifyArgs>();
  auto* ver = app.add_subcommand(
      "verify-signature",
      "Check a DSSE envelope's or a signed CoRIM's signature; exit 1 when it does not verify");
  ver->add_option("ENVELOPE", v->envelope, "the .dsse.json file, or a signed CoRIM (.cose)")
      ->required()
      ->check(CLI::ExistingFile);
  ver->add_option("--key", v->keys, "PEM public key (or certificate); may be repeated");
  ver->add_option("--cert", v->cert, "X.509 certificate (PEM) of the signer");
  ver->add_option("--ca", v->ca, "PEM trust anchors the --cert must chain to");
  ver->add_option("--payload", v->payload, "also require the payload to equal this file");
  ver->add_option("--payload-out", v->payload_out, "write the verified payload here");
  ver->add_flag("--force", v->force,
                "replace a symlink, device node or FIFO at --payload-out (never written through)");
  ver->callback([v] { run_verify_signature(*v); });
}

}  // namespace mkguest::cli
