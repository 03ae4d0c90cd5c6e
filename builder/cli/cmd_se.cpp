// `mkguest se build`: an IBM Secure Execution image from a kernel, parmfile
// and initrd with genprotimg 2.35's option names (builder/formats/se/image.h,
// docs/se.md), plus hdr.bin and the expected values as JSON.
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/file.h"
#include "base/secret.h"
#include "builder/cli/attest_io.h"
#include "builder/cli/commands.h"
#include "builder/formats/se/build.h"
#include "builder/formats/se/hkd.h"
#include "builder/formats/se/image.h"
#include "builder/measure/se_values.h"

namespace mkguest::cli {
namespace {

namespace fs = std::filesystem;

struct SeArgs {
  std::string image, ramdisk, parmfile, output, hdr_out, stage3a, stage3b;
  std::string layout = "genprotimg";
  std::vector<std::string> host_keys, certs, crls;
  std::string comm_key, header_key, comp_key;
  std::optional<std::string> root_ca;
  // Given or not: an empty value (--x-pcf=) is 0, as genprotimg reads it.
  std::optional<std::string> pcf, scf, psw;
  bool offline = false, no_verify = false, no_component_check = false, json = false;
  bool enable_dump = false, disable_dump = false, enable_pckmo = false, disable_pckmo = false;
  bool enable_cck_ext = false, disable_cck_ext = false, force = false;
  std::string test_seed, test_iv, test_ephemeral, test_tweaks;
};

// genprotimg 2.35 (hex_str_toull): g_ascii_strtoull(s, &end, 16) with the
// whole string consumed, so an empty value (--x-pcf=) is 0.
std::uint64_t parse_hex(const std::string& s, const std::string& opt) {
  if (s.empty()) return 0;
  std::string h = s;
  if (h.rfind("0x", 0) == 0 || h.rfind("0X", 0) == 0) h = h.substr(2);
  if (h.empty() || h.size() > 16 ||
      h.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    throw UsageError(opt + ": '" + s + "' is not a hexadecimal value such as 0xe0");
  return std::stoull(h, nullptr, 16);
}

Bytes read_key(const std::string& path, std::size_t size, const char* what) {
  const Bytes b = read_file(path);
  if (b.size() != size)
    throw file_error(path, std::string(what) + " must be exactly " + std::to_string(size) +
                               " bytes, not " + std::to_string(b.size()));
  return b;
}

SecretBytes read_secret_key(const std::string& path, std::size_t size, const char* what) {
  return se::read_key_file(path, path, size, what, warn);
}

void run(const SeArgs& a) {
  if (a.layout != "genprotimg" && a.layout != "pvimg")
    throw UsageError("--layout must be genprotimg (2.35, C) or pvimg (2.36+, Rust)");
  if (a.stage3a.empty() || a.stage3b.empty())
    throw UsageError(
        "se build: --stage3a and --stage3b (the loaders, e.g. from s390-tools' "
        "/usr/share/s390-tools/genprotimg) are required");
  se::ImageRequest req;
  se::Flags& f = req.flags;
  if (a.layout == "pvimg") f.layout = se::Layout::kPvimg;
  if (a.pcf && (a.enable_dump || a.disable_dump || a.enable_pckmo || a.disable_pckmo))
    throw UsageError("--x-pcf cannot be combined with --(enable|disable)-(dump|pckmo)");
  if (a.scf && (a.enable_cck_ext || a.disable_cck_ext))
    throw UsageError("--x-scf cannot be combined with --(enable|disable)-cck-extension-secret");
  if (a.pcf) f.pcf = parse_hex(*a.pcf, "--x-pcf");
  if (a.enable_dump) f.pcf |= se::kPcfAllowDump;
  if (a.disable_dump) f.pcf &= ~se::kPcfAllowDump;
  const std::uint64_t pckmo = se::kPcfPckmoDea | se::kPcfPckmoAes | se::kPcfPckmoEcc;
  if (a.enable_pckmo) f.pcf |= pckmo;
  if (a.disable_pckmo) f.pcf &= ~pckmo;
  if (a.scf) f.scf = parse_hex(*a.scf, "--x-scf");
  if (a.enable_cck_ext) f.scf |= se::kScfCckExtensionSecret;
  if (a.disable_cck_ext) f.scf &= ~se::kScfCckExtensionSecret;
  if (a.psw) f.kernel_psw_addr = parse_hex(*a.psw, "--x-psw");
  if ((f.pcf & se::kPcfAllowDump) && a.comm_key.empty())
    throw UsageError("--enable-dump needs --comm-key");
  if ((f.scf & se::kScfCckExtensionSecret) && a.comm_key.empty())
    throw UsageError("--enable-cck-extension-secret needs --comm-key");

  se::HkdOptions& ho = req.host_keys;
  ho.host_key_docs = a.host_keys;
  ho.at = std::time(nullptr);
  ho.certs = a.certs;
  ho.crls = a.crls;
  // An empty --root-ca= names no file: genprotimg fails to load it, unless
  // --no-verify leaves it unread (as --cert= and --crl=).
  if (a.root_ca && a.root_ca->empty() && !a.no_verify)
    throw UsageError("--root-ca: an empty value names no file");
  ho.root_ca = a.root_ca.value_or("");
  ho.no_verify = a.no_verify;
  if (a.no_verify)
    std::cerr << "mkguest: WARNING: host-key document verification is disabled. Your workload "
                 "is not secured.\n";
  else if (a.root_ca)
    std::cerr << "mkguest: the root CA is taken from the command line: make sure it is trusted\n";

  MappedFile kernel(a.image), stage3a(a.stage3a), stage3b(a.stage3b);
  std::optional<MappedFile> ramdisk;
  se::ImageInputs& in = req.inputs;
  in.kernel = kernel.bytes();
  in.kernel_name = a.image;
  in.stage3a = stage3a.bytes();
  in.stage3a_name = a.stage3a;
  in.stage3b = stage3b.bytes();
  in.stage3b_name = a.stage3b;
  if (!a.parmfile.empty()) {
    in.parmline = read_file(a.parmfile);
    in.parmline_name = a.parmfile;
  }
  if (!a.ramdisk.empty()) {
    ramdisk.emplace(a.ramdisk);
    in.initrd = ramdisk->bytes();
  }
  in.component_check = !a.no_component_check;
  in.release = [&](std::span<const std::uint8_t> r) {
    kernel.release(r);
    if (ramdisk) ramdisk->release(r);
  };

  se::Secrets& s = req.secrets;
  if (!a.comp_key.empty()) s.image_key = read_secret_key(a.comp_key, 64, "the image (XTS) key");
  if (!a.comm_key.empty())
    s.cck = read_secret_key(a.comm_key, 32, "the customer communication key");
  if (!a.header_key.empty()) s.header_key = read_secret_key(a.header_key, 32, "the header key");
  if (!a.test_iv.empty()) s.iv = read_key(a.test_iv, 12, "the header IV");
  ossl::Pkey eph;
  if (!a.test_ephemeral.empty()) {
    eph = se::load_p521_private_pem(read_file(a.test_ephemeral), a.test_ephemeral);
    s.ephemeral = eph.get();
  }
  if (!a.test_tweaks.empty()) {
    std::size_t start = 0;
    while (start <= a.test_tweaks.size()) {
      const std::size_t comma = a.test_tweaks.find(',', start);
      const std::string t = a.test_tweaks.substr(
          start, comma == std::string::npos ? std::string::npos : comma - start);
      Bytes b;
      if (!from_hex(t, &b) || b.size() != 6)
        throw UsageError("--x-test-tweaks: '" + t + "' is not 6 bytes of hex");
      s.tweak_random.push_back(b);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  const bool testing = !a.test_seed.empty() || !a.test_iv.empty() || !a.test_ephemeral.empty() ||
                       !a.test_tweaks.empty();
  if (testing)
    std::cerr << "mkguest: WARNING: test-only randomness (--x-test-*): this image is UNSAFE FOR "
                 "PRODUCTION\n";
  req.test_seed = a.test_seed;

  // Both outputs are checked before anything is written; each is committed
  // atomically (base/atomic_file.h).
  check_output_target(a.output, a.force);
  if (!a.hdr_out.empty()) check_output_target(a.hdr_out, a.force);
  AtomicFile out(a.output, a.force);
  const se::BuiltImage img = se::build_image(std::move(req), out).image;
  out.commit();
  if (!a.hdr_out.empty()) write_file_atomic(a.hdr_out, img.header, a.force);
  if (a.json) {
    std::cout << se::values_json(img).dump(2) << "\n";
    return;
  }
  std::cout << "Wrote " << a.output << " (" << img.image_size << " bytes)\n";
  for (const auto& c : img.components)
    std::cout << "  " << se::comp_name(c.type) << " at " << hex_offset(c.addr) << ", "
              << c.size / se::kPage << " pages, tweak prefix "
              << to_hex(Bytes(c.tweak.begin(), c.tweak.begin() + 8)) << "\n";
  std::cout << "PLD " << to_hex(img.pld) << "\nALD " << to_hex(img.ald) << "\nTLD "
            << to_hex(img.tld) << "\ntag " << to_hex(img.tag) << "\n";
}

}  // namespace

void register_se(CLI::App& app) {
  auto* se = app.add_subcommand("se", "IBM Secure Execution images (docs/se.md)");
  se->require_subcommand(1);
  auto a = std::make_shared<SeArgs>();
  auto* b = se->add_subcommand(
      "build",
      "Write an SE image in genprotimg 2.35's layout (genprotimg's option names) and print or "
      "--json its expected attestation values (PLD, ALD, TLD, tag, image_phkh).");
  b->add_option("-i,--image", a->image, "the s390x kernel (raw image, not ELF)")
      ->required()
      ->check(CLI::ExistingFile);
  b->add_option("-r,--ramdisk", a->ramdisk, "the initrd")->check(CLI::ExistingFile);
  b->add_option("-p,--parmfile", a->parmfile, "the kernel command line (a NUL is appended)")
      ->check(CLI::ExistingFile);
  b->add_option("-k,--host-key-document", a->host_keys, "a host-key document; one key slot each")
      ->required()
      ->check(CLI::ExistingFile);
  // --cert, --crl and --root-ca only serve the verification: an empty value
  // (--cert=) passes here, is unread with --no-verify and fails to load
  // without it, as in genprotimg 2.35 (docs/se.md, "Empty values").
  const CLI::Validator file_or_empty(
      [](std::string& v) { return v.empty() ? std::string() : CLI::ExistingFile(v); }, "FILE");
  b->add_option("-C,--cert", a->certs,
                "the IBM Z signing certificate and intermediate CA certificates")
      ->check(file_or_empty);
  b->add_option("--crl", a->crls, "a CRL (for the signing certificate and every CA)")
      ->check(file_or_empty);
  b->add_option("--root-ca", a->root_ca, "the trusted root CA (default: the system's roots)")
      ->check(file_or_empty);
  b->add_flag("--offline", a->offline,
              "accepted for genprotimg compatibility: mkguest never downloads CRLs");
  b->add_flag("--no-verify", a->no_verify,
              "do not verify the host-key documents (the workload is then not secured)");
  b->add_option("-o,--output", a->output, "the SE image")->required();
  b->add_option("--hdr-out", a->hdr_out, "also write the bare SE header (hdr.bin) here");
  b->add_flag("--force", a->force,
              "replace a symlink, device node or FIFO at -o or --hdr-out (never written through)");
  b->add_option("--stage3a", a->stage3a, "the stage3a loader (stage3a.bin)")
      ->check(CLI::ExistingFile);
  b->add_option("--stage3b", a->stage3b, "the stage3b loader (stage3b_reloc.bin)")
      ->check(CLI::ExistingFile);
  b->add_option("--layout", a->layout,
                "genprotimg (2.35, C) or pvimg (2.36+: initrd before parmline, IPIB after "
                "stage3b, SeImgLnx metadata)")
      ->capture_default_str();
  b->add_option("--comm-key", a->comm_key, "the customer communication key (32-byte file)")
      ->check(CLI::ExistingFile);
  b->add_option("--x-header-key", a->header_key, "the header protection key (32-byte file)")
      ->check(CLI::ExistingFile);
  b->add_option("--x-comp-key", a->comp_key, "the component XTS key (64-byte file)")
      ->check(CLI::ExistingFile);
  b->add_option("--x-pcf", a->pcf, "plaintext control flags (hex; default 0xe0)");
  b->add_option("--x-scf", a->scf, "secret control flags (hex; default 0)");
  b->add_option("--x-psw", a->psw, "the kernel entry stage3b jumps to (hex; default 0x10000)");
  b->add_flag("--enable-dump", a->enable_dump, "allow dumping the guest (needs --comm-key)");
  b->add_flag("--disable-dump", a->disable_dump, "do not allow dumping (the default)");
  b->add_flag("--enable-pckmo", a->enable_pckmo, "allow the PCKMO key functions (the default)");
  b->add_flag("--disable-pckmo", a->disable_pckmo, "forbid the PCKMO key functions");
  b->add_flag("--enable-cck-extension-secret", a->enable_cck_ext,
              "require an extension secret with every add-secret request (needs --comm-key)");
  b->add_flag("--disable-cck-extension-secret", a->disable_cck_ext, "the default");
  b->add_flag("--no-component-check", a->no_component_check,
              "skip the kernel checks (raw s390x image with S390EP, cmdline size)");
  b->add_flag("--json", a->json, "print the expected values as JSON");
  b->add_option("--x-test-seed", a->test_seed,
                "TESTS ONLY, UNSAFE FOR PRODUCTION: derive every key, IV and tweak from SEED");
  b->add_option("--x-test-iv", a->test_iv, "TESTS ONLY, UNSAFE: the header IV (12-byte file)");
  b->add_option("--x-test-ephemeral-key", a->test_ephemeral,
                "TESTS ONLY, UNSAFE: the customer P-521 key (PEM)");
  b->add_option("--x-test-tweaks", a->test_tweaks,
                "TESTS ONLY, UNSAFE: the 6 random tweak bytes per component, hex, comma-separated");
  b->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
