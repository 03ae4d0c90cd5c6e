// The typed recipe (language v1). See recipes/README.md for every key and
// recipes/schema.json for the JSON Schema editors can use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "recipes/measurements.h"
#include "recipes/node.h"

namespace mkguest::recipe {

// A file the recipe names: resolved for opening, and as the manifest shows
// it (relative to the top recipe's directory, so builds from different
// directories record the same text).
struct PathRef {
  std::filesystem::path resolved;
  std::string display;
  Mark mark;
};

enum class Compression { kNone, kGzip, kZstd, kXz };
const char* compression_name(Compression c);

struct Owner {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

struct InitrdFile {
  PathRef src;
  std::string dst;                    // canonical
  std::optional<std::uint32_t> mode;  // default: 0755 if src is executable, else 0644
  Owner owner;
  Mark mark;
};
struct InitrdDir {
  std::string path;
  std::uint32_t mode = 0755;
  Owner owner;
  Mark mark;
};
struct InitrdSymlink {
  std::string path;
  std::string target;
  Owner owner;
  Mark mark;
};
struct InitrdDevice {
  std::string path;
  bool block = false;
  std::uint32_t major = 0;
  std::uint32_t minor = 0;
  std::uint32_t mode = 0600;
  Owner owner;
  Mark mark;
};
struct InitrdTree {
  PathRef src;
  std::string dst;
  Owner owner;
  bool preserve_modes = false;
  Mark mark;
};
struct InitrdArchive {
  PathRef src;
  std::string dst;
  bool drop_devices = false;  // `drop:` device nodes,
  bool drop_setid = false;    // setuid/setgid bits,
  bool drop_xattrs = false;   // extended attributes
  Mark mark;
};

// `initrd.binaries`: programs copied from a sysroot with the shared libraries
// they need (resolved from their ELF headers inside the sysroot).
struct InitrdBinaries {
  bool present = false;
  PathRef sysroot;
  std::vector<std::string> paths;  // canonical
  Mark mark;
};
// `initrd.modules`: kernel modules and their dependencies from a
// /lib/modules/<version> directory with a modules.dep.
struct InitrdModules {
  bool present = false;
  PathRef dir;
  std::vector<std::string> names;
  Mark mark;
};

struct InitrdSpec {
  bool present = false;
  Compression compression = Compression::kGzip;
  std::optional<int> level;
  std::vector<InitrdFile> early;  // an uncompressed cpio placed first (microcode)
  std::vector<InitrdArchive> archives;
  std::vector<InitrdTree> trees;
  InitrdBinaries binaries;
  InitrdModules modules;
  std::vector<InitrdDir> directories;
  std::vector<InitrdFile> files;
  std::vector<InitrdSymlink> symlinks;
  std::vector<InitrdDevice> devices;
};

// `rootfs.verity`: the dm-verity tree over the root filesystem image.
struct VeritySpec {
  bool present = false;
  std::string hash = "sha256";
  std::uint32_t format = 1;  // dm-verity hash type
  std::uint32_t data_block_size = 4096;
  std::uint32_t hash_block_size = 4096;
  std::optional<std::vector<std::uint8_t>> salt;  // nullopt = auto (derived from the seed)
  std::size_t salt_size = 32;                     // for auto
  bool superblock = false;
  std::string layout = "separate";      // separate | appended | partitioned
  std::string partition_table = "gpt";  // partitioned: gpt | mbr
  std::string arch = "x86-64";          // GPT partition types
  std::string data_device;              // cmdline device names (defaults by layout)
  std::string hash_device;
  std::vector<std::string> options;  // dm-verity optional args, e.g. panic_on_corruption
  bool pad = false;                  // pad the image to a whole data block
  // How the table reaches the kernel: "none", the recipe's cmdline writes it
  // (${verity.*}); "kata", Kata's Go runtime builds it from
  // kernel_verity_params and puts it before kernel_params (docs/kata.md).
  std::string wiring = "none";
  Mark wiring_mark;
  Mark mark;
};

// `rootfs.files`: one overlay entry, applied on top of `source` (erofs).
struct RootfsFile {
  enum class Kind { kFile, kTree, kDirectory, kSymlink };
  Kind kind = Kind::kFile;
  PathRef src;                        // kFile: a host file; kTree: a host directory
  std::string dst;                    // canonical path in the image
  std::optional<std::uint32_t> mode;  // default: file 0755/0644 by the exec bit, dir 0755
  Owner owner;
  std::string target;  // kSymlink
  Mark mark;
};

// `rootfs`: the root filesystem image (format/source), and its verity tree.
struct RootfsSpec {
  bool present = false;
  std::string format;  // "raw": an image the user made, used as it is; "erofs": written here
  PathRef source;      // raw: the image; erofs: the first (lowest) layer
  std::vector<PathRef> layers;    // erofs: directories or tars, lowest first (OCI whiteouts)
  std::vector<RootfsFile> files;  // erofs: overlays on top of the layers, in order
  VeritySpec verity;
  Mark mark;
};

// `exports.kata`: Kata QEMU configuration drop-ins (docs/kata.md §10).
struct KataExportSpec {
  bool present = false;
  std::string install_dir;                      // absolute host directory of the outputs
  std::map<std::string, std::string> firmware;  // snp | tdx | coco-dev -> host path
  std::optional<std::uint64_t> memory_mib;
  std::uint32_t vcpus = 1;
  bool guest_selinux = false;
  std::string block_device_driver = "virtio-scsi";
  std::string rootfs_type = "erofs";
  Mark mark;
};

// `exports`: attestation files written beside the outputs (docs/attestation.md).
struct ExportsSpec {
  bool trustee = false;  // rvps-message.json (+ se/ for IBM SE)
  std::string trustee_namespace = "mkguest.local";
  bool kbs_client_script = false;  // kbs-client.sh
  // Publish SNP launch digests that bind no kernel (the CLI's
  // --allow-unbound-kernel); refused by default.
  bool allow_unbound_kernel = false;
  bool provenance = false;  // provenance.intoto.json (+ reference-values)
  bool sbom = false;        // sbom.spdx.json
  bool corim = false;       // corim.cbor (unsigned CoRIM, docs/corim.md)
  KataExportSpec kata;      // kata/configuration-qemu-*.toml
  bool any() const { return trustee || provenance || sbom || corim || kata.present; }
  // `corim: {sign: ...}`: also corim.cose, the CoRIM signed (COSE_Sign1) with a
  // PEM key file or a pkcs11: URI, named as outputs.uki.secureboot names its key.
  struct CorimSign {
    bool present = false;
    std::string key;                     // a resolved path, or the pkcs11: URI as written
    std::string key_display;             // for messages (never the key itself)
    std::optional<PathRef> certificate;  // must hold the key's public half
    std::string pkcs11_module;
    std::string pin_env;  // environment variable holding a passphrase or token PIN
    Mark mark;
  } corim_sign;
};

// `outputs.uki`: a unified kernel image on a systemd-stub (docs/uki.md).
struct UkiSpec {
  bool present = false;
  PathRef stub;
  std::optional<PathRef> os_release;  // .osrel; none when absent
  std::string uname = "auto";         // "auto": from the kernel's setup header; "": none
  std::vector<std::string> sbat;      // SBAT texts merged into .sbat (default: the uki,1 line)
  std::optional<PathRef> splash, devicetree;
  std::vector<std::pair<std::string, PathRef>> sections;  // extra sections, in order
  bool grow_headers = true;
  std::string file = "uki.efi";
  // Secure Boot signing: a PEM key file or a pkcs11: URI, its certificate.
  struct SecureBoot {
    bool present = false;
    std::string key;          // a resolved path, or the pkcs11: URI as written
    std::string key_display;  // for messages (never the key itself)
    PathRef certificate;
    std::string pkcs11_module;
    std::string pin_env;  // environment variable holding a passphrase or token PIN
  } secureboot;
  // The signed PCR 11 policy (.pcrsig) and its public key (.pcrpkey).
  struct PcrSignature {
    bool present = false;
    PathRef private_key, public_key;
    std::vector<std::string> banks, phases;
  } pcr_signature;
  // A multi-profile UKI (ukify 257 --profile / --join-profile, docs/uki.md):
  // the base .profile ("ID=main" when only `profiles` is given) and each
  // further profile's .profile text and its .cmdline (verbatim; none: the base's).
  std::optional<std::string> profile;
  struct Profile {
    std::string profile;
    std::optional<std::string> cmdline;
  };
  std::vector<Profile> profiles;
  Mark mark;
};

// `outputs.se`: an IBM Secure Execution image (docs/se.md).
struct SeSpec {
  bool present = false;
  PathRef stage3a, stage3b;          // the loaders (measured: they are part of the image)
  std::vector<PathRef> host_keys;    // host-key documents, one key slot each
  std::vector<PathRef> certs, crls;  // verification: the IBM Z signing cert, CAs, CRLs
  std::optional<PathRef> root_ca;    // default: the system's roots
  bool no_verify = false;
  std::optional<PathRef> comm_key, header_key, image_key;
  std::uint64_t pcf = 0xe0, scf = 0;
  bool component_check = true;
  std::string test_seed;  // UNSAFE: deterministic secrets, for tests only
  std::string file = "se.img", hdr_file = "hdr.bin";
  std::string layout = "genprotimg";  // or "pvimg"
  Mark mark;
};

// `initdata`: the CoCo init-data document of the pod (docs/kata.md), a path to
// a TOML file or an inline mapping rendered to TOML by the build.
struct InitdataSpec {
  bool present = false;
  std::optional<PathRef> file;                            // a path: its bytes are the document
  std::string algorithm;                                  // inline: sha256, sha384 or sha512
  std::vector<std::pair<std::string, std::string>> data;  // inline, in recipe order
  Mark mark;
};

// `outputs.igvm`: IGVM files mirroring QEMU's SEV-SNP launch of the
// measurements.snp firmware, one per platform and vCPU count (docs/igvm.md §7).
struct IgvmSpec {
  bool present = false;
  std::vector<std::string> platforms = {"snp"};  // only snp: tdx is refused
  std::vector<std::uint32_t> vcpus;              // empty: measurements.snp.vcpus
  std::string vcpu_type;                         // or vcpu_sig; resolved by the loader
  std::uint32_t vcpu_sig = 0;
  std::uint64_t guest_features = 0;  // resolved by the loader
  Mark mark;
};

struct OutputsSpec {
  bool direct = true;  // kernel, initrd, cmdline
  UkiSpec uki;
  SeSpec se;
  IgvmSpec igvm;
};

// One piece of the cmdline as written (a string, or one list item), with its
// place, so an undefined ${variable} is reported at its exact column.
struct CmdlinePart {
  std::string text;
  Mark mark;
  bool quoted = false;
};

struct Recipe {
  std::string name;
  std::string version;
  std::int64_t source_date_epoch = 0;
  std::string source_date_origin;      // "environment", "recipe" or "default"
  std::vector<std::string> overrides;  // the --set arguments applied, in order
  std::string arch = "x86-64";         // the guest's architecture: x86-64, arm64, s390x
  std::string seed;
  PathRef kernel;
  std::vector<CmdlinePart> cmdline;  // joined with single spaces
  InitrdSpec initrd;
  RootfsSpec rootfs;
  OutputsSpec outputs;
  ExportsSpec exports;
  MeasurementsSpec measurements;
  InitdataSpec initdata;

  PathRef file;                // the recipe given on the command line
  std::vector<PathRef> bases;  // the `extends` chain, nearest first
  Node tree;                   // the merged document, for later sections
  SourceSet sources;           // texts of every recipe file, for errors
};

struct LoadOptions {
  std::vector<std::string> overrides;                // "key.path=value" from --set
  std::optional<std::string> env_source_date_epoch;  // SOURCE_DATE_EPOCH, if set
  std::filesystem::path cwd;                         // where --set paths are relative to
};

// Loads, merges (`extends`), overrides (`--set`) and validates a recipe.
// Throws InputError ("file:line:col: error: ..." plus the line and a caret).
Recipe load_recipe(const std::filesystem::path& path, const LoadOptions& opt);
// The same for recipe text already read; `path` names it (and its directory
// is where relative paths resolve).
Recipe parse_recipe(const std::string& text, const std::filesystem::path& path,
                    const LoadOptions& opt);

// Variables a cmdline may use in this recipe: name -> description.
std::map<std::string, std::string> defined_variables(const Recipe& r);
// The ${verity.*} variables a recipe with rootfs.verity defines.
const std::map<std::string, std::string>& verity_variables();

}  // namespace mkguest::recipe
