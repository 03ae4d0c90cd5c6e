// `mkguest uki build`: a UKI from a systemd-stub with ukify's option names
// through build_uki_image (builder/pipeline/uki_image.h, docs/uki.md). The output is
// written beside OUT and renamed into place when complete
// (base/atomic_file.h).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/file.h"
#include "base/sink.h"
#include "builder/cli/attest_io.h"
#include "builder/cli/commands.h"
#include "builder/formats/pe/sign.h"
#include "builder/formats/uki/sections.h"
#include "builder/formats/uki/writer.h"
#include "builder/keys/keys.h"
#include "builder/pipeline/uki_image.h"

namespace mkguest::cli {
namespace fs = std::filesystem;

namespace {

// Secure Boot signing options, shared by `uki build` and `uki sign`.
struct SignArgs {
  std::string key, cert, pkcs11_module, passphrase_env, signing_time;
  bool wanted() const { return !key.empty() || !cert.empty(); }
};

struct Args {
  std::string stub, linux_image, cmdline, os_release, uname, splash, devicetree, pcrpkey, output;
  std::vector<std::string> initrds, sbat, sections;
  bool no_grow = false;
  bool force = false;
  SignArgs sign;
  std::string pcr_private_key, pcr_public_key, profile;
  std::vector<std::string> phases, pcr_banks, join_profiles;
};

struct SignOnlyArgs {
  bool force = false;
  std::string input, output;
  SignArgs sign;
};

// The Secure Boot key, its certificate and the signature's options, shared
// by `uki build` and `uki sign`; the key from a PEM file or a pkcs11: URI.
struct SecureBootKey {
  keys::Signer signer;
  Bytes certificate;
  PeSignOptions options;
};

SecureBootKey load_secureboot_key(const SignArgs& a) {
  if (a.key.empty() || a.cert.empty())
    throw UsageError("signing needs both --secureboot-private-key and --secureboot-certificate");
  keys::SignerRequest req{a.key, {}, a.pkcs11_module, secret_from_env(a.passphrase_env)};
  PeSignOptions opt;
  // The signing time: --signing-time, else SOURCE_DATE_EPOCH, else none.
  std::string t = a.signing_time;
  if (t.empty())
    if (const char* sde = std::getenv("SOURCE_DATE_EPOCH")) t = sde;
  if (!t.empty() && t != "none") {
    char* end = nullptr;
    const long long v = std::strtoll(t.c_str(), &end, 10);
    if (*end || end == t.c_str() || v < 0)
      throw UsageError("--signing-time '" + t + "': seconds since 1970, or none");
    opt.signing_time = v;
  }
  return {keys::load_signer(req, warn), read_file(a.cert), opt};
}

void add_sign_options(CLI::App* c, SignArgs& s) {
  c->add_option("--secureboot-private-key", s.key,
                "the Secure Boot signing key: a PEM file, or a PKCS#11 URI "
                "(pkcs11:token=..;object=.., OpenSSL's pkcs11 engine)");
  c->add_option("--secureboot-certificate", s.cert, "its X.509 certificate (PEM)")
      ->check(CLI::ExistingFile);
  c->add_option("--pkcs11-module", s.pkcs11_module,
                "the PKCS#11 library for a pkcs11: key (default: the engine's, p11-kit)");
  c->add_option("--passphrase-env", s.passphrase_env,
                "an environment variable holding the key's passphrase or the token PIN");
  c->add_option("--signing-time", s.signing_time,
                "the signingTime attribute: seconds since 1970, or none "
                "(default: SOURCE_DATE_EPOCH when set, else none)");
}

void run_sign_only(const SignOnlyArgs& a) {
  MappedFile in(a.input);
  const SecureBootKey k = load_secureboot_key(a.sign);
  const Bytes signed_image =
      sign_pe(in.bytes(), a.input, k.signer, k.certificate, a.sign.cert, k.options);
  write_file_atomic(a.output, signed_image, a.force);
  std::cout << "Signed " << a.input << " into " << a.output << " (" << signed_image.size()
            << " bytes)\n";
}

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

// TEXT, or @FILE read as it is.
Bytes text_or_file(const std::string& v) {
  return !v.empty() && v[0] == '@' ? read_file(v.substr(1)) : bytes_of(v);
}

std::string hex(std::uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

void run(const Args& a) {
  MappedFile stub(a.stub);
  std::unique_ptr<MappedFile> kernel;
  std::vector<std::unique_ptr<MappedFile>> initrds;
  UkiContents c;
  if (!a.linux_image.empty()) {
    kernel = std::make_unique<MappedFile>(a.linux_image);
    c.linux_image = kernel->bytes();
  }
  for (const auto& i : a.initrds) {
    initrds.push_back(std::make_unique<MappedFile>(i));
    c.initrds.push_back(initrds.back()->bytes());
  }
  if (!a.cmdline.empty()) {
    c.cmdline = a.cmdline[0] == '@' ? read_file(a.cmdline.substr(1))
                                    : bytes_of(normalize_cmdline(a.cmdline));
  }
  if (!a.os_release.empty()) c.osrel = text_or_file(a.os_release);
  if (!a.uname.empty()) {
    c.uname = bytes_of(a.uname);
  } else if (kernel) {
    if (auto u = scrape_uname_x86(kernel->bytes())) c.uname = bytes_of(*u);
  }
  if (!a.splash.empty()) c.splash = read_file(a.splash);
  if (!a.devicetree.empty()) c.devicetree = read_file(a.devicetree);
  if (!a.pcrpkey.empty()) {
    c.pcrpkey = read_file(a.pcrpkey);
    keys::refuse_private_pem(*c.pcrpkey, a.pcrpkey);
  }
  if (!a.pcr_public_key.empty() && a.pcrpkey.empty()) {
    c.pcrpkey = read_file(a.pcr_public_key);
    keys::refuse_private_pem(*c.pcrpkey, a.pcr_public_key);
  }
  for (const auto& s : a.sbat) {
    const Bytes b = text_or_file(s);
    c.sbat.emplace_back(b.begin(), b.end());
  }
  // ukify: joining profiles needs a base profile, "ID=main" unless given.
  if (!a.profile.empty() || !a.join_profiles.empty())
    c.profile = text_or_file(a.profile.empty() ? std::string("ID=main") : a.profile);
  std::vector<std::unique_ptr<MappedFile>> joined;
  for (const auto& j : a.join_profiles) {
    joined.push_back(std::make_unique<MappedFile>(j));
    c.joined.push_back({profile_pe_sections(joined.back()->bytes(), j, !a.os_release.empty()), {}});
  }
  for (const auto& s : a.sections) {
    const auto colon = s.find(':');
    if (colon == std::string::npos || s.find(':', colon + 1) != std::string::npos)
      throw UsageError("--section '" + s + "': expected NAME:TEXT or NAME:@FILE");
    c.extra.emplace_back(s.substr(0, colon), text_or_file(s.substr(colon + 1)));
  }
  UkiImageRequest req;
  req.stub = stub.bytes();
  req.stub_name = a.stub;
  req.output_name = a.output;
  req.contents = std::move(c);
  req.layout.grow_headers = !a.no_grow;
  std::optional<keys::Signer> pcr_key;
  Bytes pcr_public_key;
  if (!a.pcr_private_key.empty()) {
    // The signed PCR 11 policy: .pcrpkey is measured, .pcrsig is not.
    if (a.pcr_public_key.empty() && a.pcrpkey.empty())
      throw UsageError("--pcr-private-key needs --pcr-public-key (the .pcrpkey section)");
    UkiPcrSigning ps;
    for (const auto& p : a.phases) {
      // ukify's --phases: phase paths separated by spaces.
      std::string word;
      for (char ch : p + " ") {
        if (ch == ' ' || ch == ',') {
          if (!word.empty()) ps.phases.push_back(word);
          word.clear();
        } else {
          word.push_back(ch);
        }
      }
    }
    for (std::string b : a.pcr_banks) {
      std::transform(b.begin(), b.end(), b.begin(), ::tolower);
      ps.banks.push_back(b);
    }
    pcr_key.emplace(keys::load_signer({a.pcr_private_key, {}, {}, {}}, warn));
    ps.key = &*pcr_key;
    if (!a.pcr_public_key.empty()) {
      pcr_public_key = read_file(a.pcr_public_key);
      ps.public_key = pcr_public_key;
      ps.public_key_display = a.pcr_public_key;
    }
    req.pcr = std::move(ps);
  }
  std::optional<SecureBootKey> sb_key;
  if (a.sign.wanted()) {
    sb_key.emplace(load_secureboot_key(a.sign));
    req.secureboot =
        UkiSecureBootSigning{&sb_key->signer, sb_key->certificate, a.sign.cert, sb_key->options};
  }

  AtomicFile out(a.output, a.force);
  const UkiImage built = build_uki_image(std::move(req), out);
  out.commit();
  for (const auto& n : built.notes) std::cerr << "mkguest: uki: " << n << "\n";
  const UkiPlan& plan = built.plan;
  const std::string& version = built.stub_version;
  std::cout << "Stub: systemd-stub " << (version.empty() ? "(unknown version)" : version) << "\n";
  if (plan.headers_grown_from)
    std::cout << "Headers: grown from " << hex(plan.headers_grown_from) << " to "
              << hex(plan.size_of_headers) << " bytes\n";
  for (const auto& s : plan.sections) {
    if (s.from_stub && s.name != ".sbat") continue;
    std::cout << "Section " << s.name << ": offset " << hex(s.offset) << ", size " << s.size
              << ", RVA " << hex(s.virtual_address) << "\n";
  }
  std::cout << "Wrote " << a.output << " (" << built.size << " bytes)\n";
}

}  // namespace

void register_uki(CLI::App& app) {
  auto* uki = app.add_subcommand("uki", "Unified kernel images (docs/uki.md)");
  uki->require_subcommand(1);
  auto a = std::make_shared<Args>();
  auto* b = uki->add_subcommand(
      "build",
      "Append .osrel .cmdline .dtb .uname .splash .pcrpkey .linux .initrd, your --section's and a "
      "merged .sbat to a systemd-stub, byte for byte as ukify 257 does. Unlike ukify, no "
      ".osrel is taken from the build host when --os-release is not given, and the headers "
      "grow when the stub has no room for the section headers.");
  b->add_option("--stub", a->stub, "the systemd-stub (linuxx64.efi.stub)")
      ->required()
      ->check(CLI::ExistingFile);
  b->add_option("--linux", a->linux_image, "the kernel [.linux]")->check(CLI::ExistingFile);
  b->add_option("--initrd", a->initrds, "an initrd [.initrd]; several are concatenated")
      ->check(CLI::ExistingFile);
  b->add_option("--cmdline", a->cmdline,
                "TEXT (whitespace normalised) or @FILE (verbatim) [.cmdline]");
  b->add_option("--os-release", a->os_release, "TEXT or @FILE [.osrel]; empty: none")
      ->expected(0, 1);
  b->add_option("--uname", a->uname,
                "the kernel version [.uname]; default: read from an x86 kernel's setup header");
  b->add_option("--sbat", a->sbat,
                "TEXT or @FILE of SBAT lines merged into .sbat (default: the uki,1 line)");
  b->add_option("--splash", a->splash, "a BMP image [.splash]")->check(CLI::ExistingFile);
  b->add_option("--devicetree", a->devicetree, "a DTB [.dtb]")->check(CLI::ExistingFile);
  b->add_option("--pcrpkey", a->pcrpkey, "the PEM public key of the PCR policy [.pcrpkey]")
      ->check(CLI::ExistingFile);
  b->add_option("--section", a->sections, "NAME:TEXT or NAME:@FILE, an extra section");
  b->add_option("--profile", a->profile,
                "TEXT or @FILE [.profile]: alone, a profile PE (.profile first, no .sbat) to join; "
                "with --join-profile, the base profile (default ID=main)");
  b->add_option("--join-profile", a->join_profiles,
                "a profile PE to add as the next profile (repeatable; ukify 257's meaning)")
      ->check(CLI::ExistingFile);
  b->add_flag("--no-grow-headers", a->no_grow,
              "fail as ukify does (\"Not enough header space\") instead of growing the headers");
  add_sign_options(b, a->sign);
  b->add_option("--pcr-private-key", a->pcr_private_key,
                "an RSA key (PEM) that signs the expected PCR 11 values [.pcrsig]")
      ->check(CLI::ExistingFile);
  b->add_option("--pcr-public-key", a->pcr_public_key, "its public key (PEM) [.pcrpkey]")
      ->check(CLI::ExistingFile);
  b->add_option("--phases", a->phases,
                "phase paths to sign for, space-separated (default: systemd-measure's four)");
  b->add_option("--pcr-banks", a->pcr_banks, "banks to sign for (default: all four)");
  b->add_option("-o,--output", a->output, "the UKI to write")->required();
  b->add_flag("--force", a->force,
              "replace an output that is not a regular file (the entry is replaced, never written "
              "through)");
  b->callback([a] { run(*a); });

  auto sa = std::make_shared<SignOnlyArgs>();
  auto* sg = uki->add_subcommand(
      "sign", "Sign a PE image (a UKI, a kernel, a stub) for Secure Boot (docs/signing.md)");
  sg->add_option("INPUT", sa->input, "the PE image")->required()->check(CLI::ExistingFile);
  add_sign_options(sg, sa->sign);
  sg->add_option("-o,--output", sa->output, "the signed image")->required();
  sg->add_flag("--force", sa->force,
               "replace an output that is not a regular file (the entry is replaced, never written "
               "through)");
  sg->callback([sa] { run_sign_only(*sa); });
}

}  // namespace mkguest::cli
