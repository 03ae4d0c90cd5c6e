// Attestation exports written by the build; see exports.h.
#include "builder/attest/exports.h"

#include "base/error.h"
#include "base/file.h"
#include "builder/attest/corim.h"
#include "builder/attest/cose.h"
#include "builder/attest/provenance.h"
#include "builder/attest/se_hdr.h"
#include "builder/attest/spdx_sbom.h"
#include "builder/attest/trustee.h"
#include "builder/formats/se/reader.h"

namespace mkguest::attest {

namespace fs = std::filesystem;

bool write_se_trustee_files(const json& manifest, const fs::path& outdir, const fs::path& dir,
                            const std::string& title) {
  std::string snippet = se_policy_snippet(manifest, title);
  if (snippet.empty()) return false;
  std::string want = find_string(manifest, {"measurements", "se", "tag"});
  const json* outs = find(manifest, {"outputs"});
  if (outs && outs->is_array()) {
    for (const auto& o : *outs) {
      std::string file = find_string(o, {"file"});
      std::error_code ec;
      if (file.empty() || !fs::is_regular_file(outdir / file, ec)) continue;
      MappedFile f(outdir / file);
      SeHeader h;
      try {
        h = find_se_header(f.bytes(), file);
      } catch (const se::NoSeHeaderError&) {
        continue;
      }
      if (!want.empty() && h.tag != want)
        throw file_error(file, "its SE header tag " + h.tag + " is not the manifest's se.tag");
      fs::create_directories(dir);
      write_file(dir / "hdr.bin", h.bytes);
      write_file(dir / "se-policy.rego", snippet);
      return true;
    }
  }
  throw file_error("manifest.json", "no output holds the SE header (hdr.bin)");
}

namespace {

// corim.cose: the recipe's CoRIM signed with its `exports.corim.sign` key, with
// the CoRIM's own validity (from the source date) as the signature's.
Bytes sign_recipe_corim(const recipe::ExportsSpec::CorimSign& s, const json& manifest,
                        const Bytes& corim, const ExportSecrets& secrets) {
  keys::SignerRequest req{s.key, s.key_display, s.pkcs11_module,
                          SecretBytes(secrets.corim_secret.view())};
  std::function<void(const std::string&)> warn = secrets.warn;
  if (!warn) warn = [](const std::string&) {};
  const keys::Signer signer = keys::load_signer(req, warn);
  if (s.certificate)
    signer.check_certificate(read_file(s.certificate->resolved), s.certificate->display);
  CorimSignOptions so;
  so.validity = corim_validity(manifest, {});
  try {
    return corim_sign(corim, signer, so);
  } catch (const ValueError& e) {
    throw InputError(s.mark.file, s.mark.place(), std::string("exports.corim.sign: ") + e.what());
  }
}

}  // namespace

void write_recipe_exports(const recipe::ExportsSpec& spec, const std::string& manifest_text,
                          const fs::path& outdir, const ExportSecrets& secrets) {
  if (!spec.any()) return;
  json m = parse_manifest(manifest_text, "manifest.json");
  std::string sha = to_hex(digest(HashAlg::kSha256, manifest_text));
  std::string title =
      find_string(m, {"recipe", "name"}) + " " + find_string(m, {"recipe", "version"});
  if (spec.trustee) {
    TrusteeOptions o;
    o.ns = spec.trustee_namespace;
    o.allow_unbound_kernel = spec.allow_unbound_kernel;
    json values = trustee_reference_values(m, o, "manifest.json");
    write_file(outdir / "rvps-message.json", canonical_json(trustee_message(values)));
    if (spec.kbs_client_script) {
      write_file(outdir / "kbs-client.sh", kbs_client_script(values, title, nullptr));
      fs::permissions(outdir / "kbs-client.sh", fs::perms(0755));
    }
    write_se_trustee_files(m, outdir, outdir / "se", title);
  }
  ProvenanceOptions po;
  po.manifest_sha256 = sha;
  if (spec.provenance) {
    write_file(outdir / "provenance.intoto.json",
               canonical_json(slsa_provenance_statement(m, po, "manifest.json")));
    const json* meas = find(m, {"measurements"});
    if (meas && meas->is_object() && !meas->empty())
      write_file(outdir / "reference-values.intoto.json",
                 canonical_json(reference_values_statement(m, po, "manifest.json")));
  }
  if (spec.corim) {
    Bytes corim = corim_unsigned(m, {}, "manifest.json");
    write_file(outdir / "corim.cbor", std::string(corim.begin(), corim.end()));
    if (spec.corim_sign.present) {
      Bytes cose = sign_recipe_corim(spec.corim_sign, m, corim, secrets);
      write_file(outdir / "corim.cose", std::string(cose.begin(), cose.end()));
    }
  }
  if (spec.sbom) {
    SbomOptions so;
    so.manifest_sha256 = sha;
    write_file(outdir / "sbom.spdx.json", canonical_json(spdx_sbom(m, {}, so, "manifest.json")));
  }
}

}  // namespace mkguest::attest
