// `mkguest verify`: checks an output directory against its manifest. The
// checks are a list (default_verify_checks) that each module extends with one
// entry; each check appends findings, named by check and subject, and an empty
// list of findings means the directory is what the manifest says.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/digest.h"
#include "builder/manifest/json_util.h"
#include "firmware/snp_measure.h"

namespace mkguest::attest {

struct Finding {
  std::string check;    // e.g. "outputs"
  std::string subject;  // e.g. "initrd"
  std::string message;  // e.g. "sha256 differs: manifest 12.., file 34.."
};

struct VerifyContext {
  std::filesystem::path outdir;
  json manifest;
  std::string manifest_source;  // for messages
  // Where inputs named in the manifest (by the path the recipe gave them)
  // are looked for: the recipe's directory, --inputs DIR.
  std::vector<std::filesystem::path> input_dirs = {};
  // An output's path in outdir; throws InputError for names that escape it,
  // and for a symlink or special file on the way (nothing is read through one).
  std::filesystem::path output_path(const std::string& file) const;
  // An input's path: absolute as recorded, or found under input_dirs; empty
  // when it is nowhere.
  std::filesystem::path find_input(const std::string& recorded) const;
};

// The firmware input a measurement names (its "firmware": {"path", "sha256"}).
struct FirmwareInput {
  bool found = false;    // false: not found under input_dirs (the check is skipped)
  bool matches = false;  // its sha256 is the recorded one (else a finding was added)
  std::filesystem::path file;
  Bytes bytes;
};
// Finds and reads the firmware `measurement` names; when its sha256 is not the
// recorded one, adds a finding for `check`.
FirmwareInput find_firmware(const VerifyContext& ctx, const json& measurement,
                            const std::string& check, std::vector<Finding>* findings);

struct VerifyCheck {
  std::string name;
  std::string description;
  // Appends findings; returns false when the check does not apply (nothing to check).
  std::function<bool(const VerifyContext&, std::vector<Finding>*)> run;
};

// The checks `mkguest verify` runs, in order. Add a check here (one line each).
std::vector<VerifyCheck> default_verify_checks();

struct VerifyReport {
  std::vector<std::string> ran;      // checks that applied
  std::vector<std::string> skipped;  // checks with nothing to check
  std::vector<Finding> findings;
};

VerifyReport run_verify(const VerifyContext& ctx, const std::vector<VerifyCheck>& checks);

// The checks shipped here.
bool check_outputs(const VerifyContext& ctx, std::vector<Finding>* findings);
bool check_se_header(const VerifyContext& ctx, std::vector<Finding>* findings);
// The file name of the manifest's output with `role` ("" when there is none).
std::string output_file(const json& manifest, const std::string& role);
// The cmdline output's text ("" when there is none).
std::string output_cmdline(const VerifyContext& ctx);
// The SEV hashes table of the kernel and initrd outputs and `cmdline`.
SevHashes output_sev_hashes(const VerifyContext& ctx, const std::string& cmdline);
// A manifest's "0x…" (or decimal) value; `fallback` when empty or malformed.
std::uint64_t parse_hex_or(const std::string& s, std::uint64_t fallback);
// Re-derives every SNP launch digest from the outputs and the firmware input
// (found through input_dirs, checked by its sha256); does not apply when the
// manifest has no measurements.snp or the firmware cannot be found.
bool check_snp(const VerifyContext& ctx, std::vector<Finding>* findings);
// measurements.tdx re-derived from the outputs, the firmware and the profile.
bool check_tdx(const VerifyContext& ctx, std::vector<Finding>* findings);
// Defined in check_igvm.cpp: measurements.snp.igvm (docs/igvm.md §7).
bool check_igvm(const VerifyContext& ctx, std::vector<Finding>* findings);
// Defined in check_initdata.cpp.
bool check_initdata(const VerifyContext& ctx, std::vector<Finding>* findings);
// The UKI: sections, Authenticode digests, stub version, signatures, and
// measurements.tpm derived again from its bytes.
bool check_uki(const VerifyContext& ctx, std::vector<Finding>* findings);
// For each dm-verity volume of the manifest's "verity" section (one object, or
// a list or map of them) with "root_hash" and "data_file" (or "data"): checks
// the data against its hash tree ("hash_file"/"hash", default the data file
// itself; "hash_offset", default 0) through libcryptsetup, reading the
// parameters from the superblock, or from "hash", "salt", "data_block_size",
// "hash_block_size", "data_blocks", "hash_type" when "superblock" is false.
bool check_verity(const VerifyContext& ctx, std::vector<Finding>* findings);

// Compares two directory trees byte for byte (regular files and symlinks, by
// relative path). Findings name each missing, extra or different file.
std::vector<Finding> compare_trees(const std::filesystem::path& expected,
                                   const std::filesystem::path& actual);

}  // namespace mkguest::attest
