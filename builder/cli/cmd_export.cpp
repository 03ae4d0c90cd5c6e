// `mkguest export`: Trustee reference values, provenance, SBOM, OCI layout,
// CoRIM and Kata drop-ins from a build's manifest (see docs/attestation.md).
#include <iostream>

#include "base/error.h"
#include "base/file.h"
#include "builder/attest/corim.h"
#include "builder/attest/cose.h"
#include "builder/attest/exports.h"
#include "builder/attest/kata.h"
#include "builder/attest/oci_layout.h"
#include "builder/attest/provenance.h"
#include "builder/attest/spdx_sbom.h"
#include "builder/attest/trustee.h"
#include "builder/cli/attest_io.h"
#include "builder/cli/commands.h"
#include "builder/fstree/dpkg_status.h"

namespace mkguest::cli {

namespace fs = std::filesystem;
using attest::json;

namespace {

struct TrusteeArgs {
  std::string manifest, output, values, script, se_dir;
  bool force = false;
  attest::TrusteeOptions opts;
};

void run_trustee(const TrusteeArgs& a) {
  LoadedManifest m = load_manifest(a.manifest);
  json values = attest::trustee_reference_values(m.json, a.opts, m.path.string());
  std::string title = attest::find_string(m.json, {"recipe", "name"}) + " " +
                      attest::find_string(m.json, {"recipe", "version"});
  write_output(a.output, attest::canonical_json(attest::trustee_message(values)), a.force);
  if (!a.values.empty()) write_output(a.values, attest::canonical_json(values), a.force);
  if (!a.script.empty()) {
    int skipped = 0;
    std::string script = attest::kbs_client_script(values, title, &skipped);
    write_output(a.script, script, a.force, 0755);
    if (skipped)
      std::cerr
          << "mkguest: note: " << skipped << " reference value(s) hold several values, "
          << "which kbs-client cannot register; the script lists them, use the RVPS message\n";
  }
  if (!a.se_dir.empty() &&
      !attest::write_se_trustee_files(m.json, m.path.parent_path(), a.se_dir, title))
    std::cerr << "mkguest: note: the manifest has no SE measurements; --se-dir ignored\n";
}

void add_trustee(CLI::App* exp) {
  auto a = std::make_shared<TrusteeArgs>();
  auto* c = exp->add_subcommand(
      "trustee",
      "Trustee RVPS 'sample' message with the default policy's names and types, plus namespaced\n"
      "rvps:/// ids; optionally the raw values, a kbs-client script, and SE hdr.bin + policy");
  c->add_option("MANIFEST", a->manifest, "manifest.json, or the output directory holding it")
      ->required();
  c->add_option("-o,--output", a->output, "write the RVPS message here (default: stdout)");
  c->add_flag("--force", a->force,
              "replace a symlink, device node or FIFO at an output path (never written through)");
  c->add_option("--values", a->values, "also write the reference values (the decoded payload)");
  c->add_option("--kbs-client-script", a->script,
                "also write a sh script registering the values with kbs-client");
  c->add_option("--se-dir", a->se_dir,
                "for IBM SE: write hdr.bin and se-policy.rego (pins se.tag, se.image_phkh) here");
  c->add_option("--namespace", a->opts.ns, "first part of the rvps:/// ids")->capture_default_str();
  c->add_option("--image", a->opts.image, "image name in the ids (default: recipe.name)");
  c->add_flag("--allow-unbound-kernel", a->opts.allow_unbound_kernel,
              "also publish SNP launch digests that bind no kernel (no kernel hashes)");
  c->add_option("--image-version", a->opts.version,
                "image version in the ids (default: recipe.version)");
  c->callback([a] { run_trustee(*a); });
}

struct ProvArgs {
  std::string manifest, output, builder_id = attest::kDefaultBuilderId;
  bool reference_values = false, force = false;
};

void add_provenance(CLI::App* exp) {
  auto a = std::make_shared<ProvArgs>();
  auto* c = exp->add_subcommand(
      "provenance",
      "in-toto Statement v1 with an SLSA provenance v1 predicate (or, with --reference-values,\n"
      "mkguest's reference-values predicate) for the outputs of a manifest");
  c->add_option("MANIFEST", a->manifest, "manifest.json, or the output directory holding it")
      ->required();
  c->add_option("-o,--output", a->output, "write here (default: stdout)");
  c->add_flag("--force", a->force,
              "replace a symlink, device node or FIFO at an output path (never written through)");
  c->add_option("--builder-id", a->builder_id, "runDetails.builder.id (a URI naming the builder)")
      ->capture_default_str();
  c->add_flag("--reference-values", a->reference_values,
              "emit the " + std::string(attest::kReferenceValuesType) + " statement instead");
  c->callback([a] {
    LoadedManifest m = load_manifest(a->manifest);
    attest::ProvenanceOptions o;
    o.builder_id = a->builder_id;
    o.manifest_name = m.path.filename().string();
    o.manifest_sha256 = m.sha256;
    json st = a->reference_values ? attest::reference_values_statement(m.json, o, m.path.string())
                                  : attest::slsa_provenance_statement(m.json, o, m.path.string());
    write_output(a->output, attest::canonical_json(st), a->force);
  });
}

struct SbomArgs {
  std::string manifest, output, dpkg_status, rootfs, vendor = "debian";
  bool force = false;
};

void add_sbom(CLI::App* exp) {
  auto a = std::make_shared<SbomArgs>();
  auto* c = exp->add_subcommand(
      "sbom", "SPDX 2.3 JSON SBOM: the manifest's inputs plus the rootfs's dpkg packages");
  c->add_option("MANIFEST", a->manifest, "manifest.json, or the output directory holding it")
      ->required();
  c->add_option("-o,--output", a->output, "write here (default: stdout)");
  c->add_flag("--force", a->force,
              "replace a symlink, device node or FIFO at an output path (never written through)");
  auto* st = c->add_option("--dpkg-status", a->dpkg_status, "a dpkg status file to list");
  c->add_option("--rootfs", a->rootfs, "a rootfs directory (uses its var/lib/dpkg/status if any)")
      ->excludes(st);
  c->add_option("--deb-vendor", a->vendor, "purl namespace of the packages")->capture_default_str();
  c->callback([a] {
    LoadedManifest m = load_manifest(a->manifest);
    std::vector<attest::DpkgPackage> pkgs;
    fs::path status = a->dpkg_status;
    std::error_code ec;
    if (!a->rootfs.empty()) {
      status = fs::path(a->rootfs) / "var/lib/dpkg/status";
      if (!fs::is_regular_file(status, ec)) status.clear();
    }
    if (!status.empty()) {
      MappedFile f(status);
      pkgs = attest::parse_dpkg_status(f.bytes(), status.string());
    }
    attest::SbomOptions o;
    o.manifest_sha256 = m.sha256;
    o.deb_vendor = a->vendor;
    write_output(a->output,
                 attest::canonical_json(attest::spdx_sbom(m.json, pkgs, o, m.path.string())),
                 a->force);
  });
}

struct OciArgs {
  std::string outdir, layout, tag;
};

void add_oci(CLI::App* exp) {
  auto a = std::make_shared<OciArgs>();
  auto* c = exp->add_subcommand(
      "oci", "OCI image layout holding the output directory as one artifact (artifactType " +
                 std::string(attest::kArtifactType) +
                 ", a media type per file), ready for oras/skopeo");
  c->add_option("OUTDIR", a->outdir, "the output directory (with its manifest.json)")->required();
  c->add_option("--oci-layout", a->layout, "the OCI layout directory to write or add to")
      ->required();
  c->add_option("--tag", a->tag, "ref name in index.json (default: recipe.version or latest)");
  c->callback([a] {
    LoadedManifest m = load_manifest(a->outdir);
    attest::OciOptions o;
    o.created = attest::manifest_epoch(m.json);
    o.version = attest::find_string(m.json, {"recipe", "version"});
    o.tag = !a->tag.empty() ? a->tag : !o.version.empty() ? o.version : "latest";
    auto files = attest::oci_files_of_outdir(m.path.parent_path(), m.json);
    json desc = attest::write_oci_layout(a->layout, files, o);
    std::cout << attest::find_string(desc, {"digest"}) << "\n";
  });
}

struct CorimArgs {
  std::string manifest, output, key, pkcs11_uri, pkcs11_module, cert, passphrase_env;
  bool force = false;
  attest::CorimOptions opts;
};

void add_corim(CLI::App* exp) {
  auto a = std::make_shared<CorimArgs>();
  auto* c = exp->add_subcommand(
      "corim",
      "CoRIM reference values (draft-ietf-rats-corim): an unsigned CoRIM (CBOR tag 501) with\n"
      "one CoMID per measured platform (SNP, TDX, vTPM, SE); see docs/corim.md");
  c->add_option("MANIFEST", a->manifest, "manifest.json, or the output directory holding it")
      ->required();
  c->add_option("-o,--output", a->output, "write the CoRIM here (default: stdout)");
  c->add_flag("--force", a->force,
              "replace a symlink, device node or FIFO at an output path (never written through)");
  c->add_option("--id", a->opts.id, "corim id (default: RECIPE_NAME-RECIPE_VERSION)");
  c->add_option("--creator", a->opts.creator, "entity name of the creator")->capture_default_str();
  c->add_option("--valid-days", a->opts.valid_days,
                "validity: from the manifest's source date, for this many days")
      ->capture_default_str();
  auto* key = c->add_option("--key", a->key,
                            "sign: PEM private key (ECDSA P-256/384/521, Ed25519, RSA) or a\n"
                            "pkcs11: URI; writes a COSE_Sign1 signed CoRIM (tag 18)");
  c->add_option("--pkcs11-uri", a->pkcs11_uri, "sign with this PKCS#11 key (pkcs11:token=..)")
      ->excludes(key);
  c->add_option("--pkcs11-module", a->pkcs11_module,
                "PKCS#11 library for a pkcs11: key (default: the engine's, p11-kit)");
  c->add_option("--cert", a->cert, "X.509 certificate (PEM) that must match the signing key");
  c->add_option("--passphrase-env", a->passphrase_env,
                "name of an environment variable holding the key's passphrase (or token PIN)");
  c->callback([a] {
    LoadedManifest m = load_manifest(a->manifest);
    Bytes out = attest::corim_unsigned(m.json, a->opts, m.path.string());
    std::string k = !a->pkcs11_uri.empty() ? a->pkcs11_uri : a->key;
    if (k.empty() && (!a->cert.empty() || !a->passphrase_env.empty()))
      throw UsageError("--cert and --passphrase-env need --key or --pkcs11-uri");
    if (!k.empty()) {
      keys::SignerRequest req{k, {}, a->pkcs11_module, secret_from_env(a->passphrase_env)};
      const keys::Signer signer = keys::load_signer(req, warn);
      if (!a->cert.empty()) signer.check_certificate(read_file(a->cert), a->cert);
      attest::CorimSignOptions so;
      so.signer_name = a->opts.creator;
      so.validity = attest::corim_validity(m.json, a->opts);
      out = attest::corim_sign(out, signer, so);
    }
    write_output(a->output, std::string(out.begin(), out.end()), a->force);
  });
}

struct KataArgs {
  std::string manifest, dir;
  std::vector<std::string> firmware;
  std::uint64_t memory_mib = 0;
  bool force = false;
  attest::KataOptions opts;
};

void add_kata(CLI::App* exp) {
  auto a = std::make_shared<KataArgs>();
  auto* c = exp->add_subcommand(
      "kata",
      "Kata Containers QEMU configuration drop-ins that launch the measured VM shape, one per\n"
      "measured platform plus coco-dev (what exports.kata writes); see docs/kata.md");
  c->add_option("MANIFEST", a->manifest, "manifest.json, or the output directory holding it")
      ->required();
  c->add_option("-o,--output-dir", a->dir, "directory to write configuration-qemu-*.toml into")
      ->required();
  c->add_option("--install-dir", a->opts.install_dir,
                "absolute host directory the outputs are installed in")
      ->required();
  c->add_option("--firmware", a->firmware,
                "PLATFORM=PATH: host path of the measured firmware (snp, tdx, coco-dev)");
  c->add_option("--memory-mib", a->memory_mib, "default_memory (default: TDX ram_mib, else 2048)");
  c->add_option("--vcpus", a->opts.vcpus, "default_vcpus of the TDX, SE and coco-dev drop-ins")
      ->capture_default_str();
  c->add_flag("--guest-selinux", a->opts.guest_selinux, "disable_guest_selinux = false");
  c->add_option("--block-device-driver", a->opts.block_device_driver, "Kata's block_device_driver")
      ->check(CLI::IsMember({"virtio-scsi", "virtio-blk", "virtio-blk-ccw"}))
      ->capture_default_str();
  c->add_option("--rootfs-type", a->opts.rootfs_type, "Kata's rootfs_type of the image")
      ->check(CLI::IsMember({"erofs", "ext4", "xfs"}))
      ->capture_default_str();
  c->add_flag("--force", a->force,
              "replace a symlink, device node or FIFO at an output path (never written through)");
  c->callback([a] {
    for (const auto& f : a->firmware) {
      const auto eq = f.find('=');
      const std::string p = f.substr(0, eq);
      if (eq == std::string::npos || (p != "snp" && p != "tdx" && p != "coco-dev") ||
          f.size() == eq + 1 || f[eq + 1] != '/')
        throw UsageError("--firmware takes PLATFORM=/ABSOLUTE/PATH, PLATFORM snp, tdx or coco-dev");
      a->opts.firmware[p] = f.substr(eq + 1);
    }
    if (a->memory_mib) a->opts.memory_mib = a->memory_mib;
    LoadedManifest m = load_manifest(a->manifest);
    const auto drop_ins = attest::kata_drop_ins(m.json, a->opts);  // all or nothing
    fs::create_directories(a->dir);
    for (const auto& d : drop_ins) {  // refuse before writing any: no partial output
      std::error_code ec;
      const auto st = fs::symlink_status(fs::path(a->dir) / fs::path(d.file).filename(), ec);
      if (!a->force && fs::exists(st) && !fs::is_regular_file(st))
        throw file_error((fs::path(a->dir) / fs::path(d.file).filename()).string(),
                         "is not a regular file; --force replaces it");
    }
    for (const auto& d : drop_ins) {
      const fs::path out = fs::path(a->dir) / fs::path(d.file).filename();
      write_output(out.string(), d.text, a->force);
      std::cout << out.string() << "\n";
    }
  });
}

}  // namespace

void register_export(CLI::App& app) {
  auto* exp =
      app.add_subcommand("export", "Export a build's manifest for attestation and distribution");
  exp->require_subcommand(1);
  add_trustee(exp);
  add_provenance(exp);
  add_sbom(exp);
  add_oci(exp);
  add_corim(exp);
  add_kata(exp);
}

}  // namespace mkguest::cli
