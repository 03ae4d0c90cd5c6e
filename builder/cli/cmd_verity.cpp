// `mkguest verity`: dm-verity format and verify (see verity/ and docs/verity.md).
//   mkguest verity format DATA HASH [veritysetup format options] [--seed S] [--pad]
//   mkguest verity verify DATA HASH ROOTHASH [same options]
#include <openssl/rand.h>
#include <iostream>
#include <optional>
#include <string>

#include "base/error.h"
#include "builder/cli/commands.h"
#include "builder/formats/disk/disk_image.h"
#include "verity/cmdline.h"
#include "verity/derive.h"
#include "verity/verity_file.h"

namespace mkguest::cli {

namespace {

struct VerityArgs {
  std::string data, hash, root;
  std::string hash_alg = "sha256";
  std::uint32_t data_block_size = 4096;
  std::uint32_t hash_block_size = 4096;
  // Hex, "-" or "" (none, as veritysetup --salt=), "random"; absent = derived
  // from the seed.
  std::optional<std::string> salt;
  // Dashed UUID, "random"; absent = derived from the seed. Empty (--uuid=):
  // refused by format with a superblock, as veritysetup does; else unread.
  std::optional<std::string> uuid;
  bool no_superblock = false;
  std::uint64_t hash_offset = 0;
  std::uint64_t data_blocks = 0;
  std::uint32_t format = 1;
  std::string seed;
  bool pad = false;
  unsigned threads = 0;
  bool cmdline = false;
  std::string data_device = "/dev/vda1";
  std::string hash_device = "/dev/vda2";
  std::vector<std::string> verity_options;
  std::string disk;
  std::string table = "gpt";
  std::string arch = "x86-64";
};

void add_common(CLI::App* cmd, VerityArgs& a) {
  cmd->add_option("--hash", a.hash_alg, "Hash algorithm: sha1, sha256, sha384, sha512")
      ->capture_default_str();
  cmd->add_option("--data-block-size", a.data_block_size, "Data block size in bytes")
      ->capture_default_str();
  cmd->add_option("--hash-block-size", a.hash_block_size, "Hash block size in bytes")
      ->capture_default_str();
  cmd->add_option("--salt", a.salt,
                  "Salt as hex, '-' or empty (--salt=) for none, 'random' for a random one; "
                  "default: derived "
                  "from --seed and the parameters (32 bytes)");
  cmd->add_option("--uuid", a.uuid, "Superblock UUID, or 'random'; default: derived from --seed");
  cmd->add_flag("--no-superblock", a.no_superblock, "Do not write/read a superblock");
  cmd->add_option("--hash-offset", a.hash_offset,
                  "Byte offset of the hash area in HASH (a multiple of 512)")
      ->capture_default_str();
  cmd->add_option("--data-blocks", a.data_blocks,
                  "Number of data blocks (default: DATA size / data block size)");
  cmd->add_option("--format", a.format, "Hash type: 1 (normal) or 0 (Chrome OS)")
      ->capture_default_str();
  cmd->add_option("--seed", a.seed, "Seed for the derived salt and UUID (default: empty)");
}

verity::VerityParams make_params(VerityArgs& a, bool formatting) {
  verity::VerityParams p;
  if (!verity::parse_verity_hash(a.hash_alg, &p.hash)) {
    throw UsageError("unknown hash algorithm '" + a.hash_alg + "'");
  }
  p.hash_type = a.format;
  p.data_block_size = a.data_block_size;
  p.hash_block_size = a.hash_block_size;
  p.superblock = !a.no_superblock;
  p.hash_offset = a.hash_offset;
  if (a.data_blocks) {
    p.data_blocks = a.data_blocks;
  } else if (formatting || a.no_superblock) {
    std::uint64_t size = verity::file_size(a.data);
    if (a.data_block_size == 0) throw UsageError("invalid data block size 0");
    if (size % a.data_block_size) {
      if (!formatting || !a.pad) {
        throw UsageError(a.data + " holds " + std::to_string(size) +
                         " bytes, not a multiple of the data block size " +
                         std::to_string(a.data_block_size) +
                         (formatting ? ": pad it, or pass --pad to extend it with zeros"
                                     : ": pass --data-blocks"));
      }
      size = verity::pad_file(a.data, a.data_block_size);
    }
    p.data_blocks = size / a.data_block_size;
  }
  // The derivation context names every parameter that shapes the tree.
  std::string context = "hash=" + a.hash_alg + ",format=" + std::to_string(a.format) +
                        ",data_block_size=" + std::to_string(a.data_block_size) +
                        ",hash_block_size=" + std::to_string(a.hash_block_size) +
                        ",data_blocks=" + std::to_string(p.data_blocks);
  if (!a.salt) {
    p.salt = verity::derive_salt(a.seed, as_bytes(context), 32);
  } else if (a.salt->empty() || a.salt == "-") {
    p.salt.clear();
  } else if (a.salt == "random") {
    p.salt.resize(32);
    if (RAND_bytes(p.salt.data(), 32) != 1) throw InternalError("RAND_bytes failed");
  } else if (!from_hex(*a.salt, &p.salt)) {
    throw UsageError("invalid salt '" + *a.salt + "': hex, '-' or 'random'");
  }
  if (!a.uuid || (a.uuid->empty() && (!formatting || a.no_superblock))) {
    p.uuid = verity::derive_uuid(a.seed, as_bytes(context));
  } else if (a.uuid == "random") {
    if (RAND_bytes(p.uuid.data(), 16) != 1) throw InternalError("RAND_bytes failed");
    p.uuid[6] = static_cast<std::uint8_t>((p.uuid[6] & 0x0f) | 0x40);
    p.uuid[8] = static_cast<std::uint8_t>((p.uuid[8] & 0x3f) | 0x80);
  } else if (auto u = verity::parse_uuid(*a.uuid)) {
    p.uuid = *u;
  } else {
    throw UsageError("invalid UUID '" + *a.uuid + "'");
  }
  return p;
}

void print_header(const std::string& hash_path, const verity::VerityGeometry& g,
                  std::span<const std::uint8_t> root) {
  const auto& p = g.params;
  std::cout << "VERITY header information for " << hash_path << "\n"
            << "UUID:            \t" << (p.superblock ? verity::format_uuid(p.uuid) : "") << "\n"
            << "Hash type:       \t" << p.hash_type << "\n"
            << "Data blocks:     \t" << p.data_blocks << "\n"
            << "Data block size: \t" << p.data_block_size << "\n"
            << "Hash blocks:     \t" << g.tree_blocks << "\n"
            << "Hash block size: \t" << p.hash_block_size << "\n"
            << "Hash algorithm:  \t" << hash_name(p.hash) << "\n"
            << "Salt:            \t" << (p.salt.empty() ? "-" : to_hex(p.salt)) << "\n"
            << "Root hash:      \t" << to_hex(root) << "\n";
  if (p.hash_offset == 0) {
    std::cout << "Hash device size: \t" << g.hash_end << " [bytes]\n";
  }
}

}  // namespace

void register_verity(CLI::App& app) {
  auto* verity = app.add_subcommand("verity", "dm-verity hash trees (veritysetup-compatible)");
  verity->require_subcommand(1);

  auto fa = std::make_shared<VerityArgs>();
  auto* format = verity->add_subcommand(
      "format",
      "Build the hash tree of DATA into HASH, bit-for-bit as 'veritysetup format'. HASH is "
      "written from empty (or, when it is DATA itself, truncated to the hash offset). Nothing "
      "is random unless asked: salt and UUID derive from --seed.");
  format->add_option("DATA", fa->data, "Data image")->required();
  format->add_option("HASH", fa->hash, "Hash output (may be DATA with --hash-offset)")->required();
  add_common(format, *fa);
  format->add_flag("--pad", fa->pad,
                   "Extend DATA with zeros to a multiple of the data block size (otherwise a "
                   "partial last block is an error)");
  format->add_option("--threads", fa->threads, "Worker threads (default: all cores)");
  format->add_flag("--cmdline", fa->cmdline,
                   "Also print the kernel command-line forms: Kata's kernel_verity_params, "
                   "dm-mod.create + root=/dev/dm-0, systemd roothash=");
  format->add_option("--data-device", fa->data_device, "Data device on the cmdline")
      ->capture_default_str();
  format->add_option("--hash-device", fa->hash_device, "Hash device on the cmdline")
      ->capture_default_str();
  format->add_option("--verity-option", fa->verity_options,
                     "dm-verity optional argument on the cmdline (repeatable), e.g. "
                     "panic_on_corruption");
  format->add_option("--disk", fa->disk,
                     "Also write a partitioned disk image: p1 = DATA, p2 = HASH (separate "
                     "HASH only)");
  format->add_option("--partition-table", fa->table, "Partition table of --disk: gpt or mbr")
      ->capture_default_str();
  format->add_option("--arch", fa->arch, "GPT partition types of --disk: x86-64, arm64 or s390x")
      ->capture_default_str();
  format->callback([fa]() {
    verity::VerityParams p = make_params(*fa, true);
    verity::VerityGeometry g = verity::plan_verity(p);
    verity::TreeOptions opt;
    opt.threads = fa->threads;
    if (!fa->disk.empty() && (p.hash_offset != 0 || (fa->table != "gpt" && fa->table != "mbr"))) {
      throw UsageError("--disk needs a separate HASH at offset 0 and --partition-table gpt|mbr");
    }
    verity::VerityTree tree = verity::format_files(fa->data, fa->hash, g, opt);
    print_header(fa->hash, g, tree.root_hash);
    if (fa->cmdline) {
      verity::CmdlineDevices dev{fa->data_device, fa->hash_device, fa->verity_options};
      std::cout << "Kata verity params:\t" << verity::kata_verity_params(g, tree.root_hash) << "\n"
                << "dm-mod.create:   \t" << verity::render_kata_cmdline(g, tree.root_hash, dev)
                << "\n"
                << "systemd:         \t" << verity::render_systemd_cmdline(g, tree.root_hash, dev)
                << "\n";
    }
    if (!fa->disk.empty()) {
      DiskLayout l =
          plan_verity_disk(fa->table == "gpt" ? PartitionTable::kGpt : PartitionTable::kMbr,
                           g.data_bytes(), g.output_size, tree.root_hash, fa->arch, fa->seed);
      write_disk_image(fa->disk, l, {fa->data, fa->hash});
      std::cout << "Disk image:      \t" << fa->disk << " (" << fa->table << ", " << l.size()
                << " bytes)\n";
    }
  });

  auto va = std::make_shared<VerityArgs>();
  auto* verify = verity->add_subcommand(
      "verify",
      "Verify DATA and HASH against ROOTHASH through libcryptsetup (in user space, no root). "
      "Exit 1 and name the first bad block on a mismatch.");
  verify->add_option("DATA", va->data, "Data image")->required();
  verify->add_option("HASH", va->hash, "Hash file (may be DATA with --hash-offset)")->required();
  verify->add_option("ROOTHASH", va->root, "Root hash (hex)")->required();
  add_common(verify, *va);
  verify->callback([va]() {
    verity::VerityParams p = make_params(*va, false);
    Bytes root;
    if (!from_hex(va->root, &root) || root.empty()) {
      throw UsageError("invalid root hash '" + va->root + "'");
    }
    verity::VerifyResult r = verity::verify_files(va->data, va->hash, p, root);
    if (r.ok) {
      std::cout << "Verification succeeded.\n";
      return;
    }
    std::cerr << "mkguest: verity verification failed: " << r.first_bad << "\n";
    if (r.position) {
      std::cerr << "libcryptsetup: verification failed at position " << *r.position << "\n";
    } else if (!r.log.empty()) {
      std::cerr << "libcryptsetup: " << r.log;
      if (r.log.back() != '\n') std::cerr << "\n";
    }
    set_exit_code(static_cast<int>(ExitCode::kMismatch));
  });
}

}  // namespace mkguest::cli
