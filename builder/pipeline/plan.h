// The typed build plan: made once from a validated recipe, before any stage
// runs. The recipe's remaining strings become enums (an unknown value is an
// InputError at its recipe place), and every input file is opened, mapped and
// hashed exactly once, into the plan's input table; the stages read those
// same bytes (they never open the kernel, the stub, a firmware, a loader, a
// raw rootfs or a listed initrd/rootfs file again). Two kinds of input are
// still read a second time, by their loaders: archives and OCI layers
// (libarchive streams them from the path) and host trees (walked, not
// mapped: a tree may hold more files than a process maps).
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/file.h"
#include "builder/fstree/tree.h"
#include "recipes/recipe.h"

namespace mkguest {

enum class RootfsFormat { kRaw, kErofs };
enum class VerityLayout { kSeparate, kAppended, kPartitioned };
enum class PartitionTableType { kGpt, kMbr };
enum class SeImageLayout { kGenprotimg, kPvimg };
enum class KernelHashes { kAuto, kOn, kOff };  // measurements.snp.kernel_hashes
enum class SnpVmm { kQemu, kEc2, kGce };
enum class UnameSource { kAuto, kNone, kGiven };  // outputs.uki.uname

// One opened input file: mapped once, hashed once.
struct InputFile {
  std::filesystem::path path;
  MappedFile map;
  std::uint64_t size = 0;
  Bytes sha256;
  std::span<const std::uint8_t> bytes() const { return map.bytes(); }
};

// One use of an input, as the manifest records it: a role and the path as
// the recipe names it. Several uses may share one file.
struct InputUse {
  std::string role;
  std::string display;
  const InputFile* file = nullptr;  // null for a tree (digest of its listing)
  std::uint64_t size = 0;
  Bytes sha256;
};

// Opens a file for the input table; a test injects one that counts.
using InputOpener = std::function<MappedFile(const std::filesystem::path&)>;

class InputTable {
 public:
  explicit InputTable(InputOpener opener);
  // The file at `path`, opened and hashed on first use; recorded as `role`
  // (shown as `display`) unless `role` is empty.
  const InputFile& add(const std::string& role, const std::filesystem::path& path,
                       const std::string& display);
  void add_tree(const std::string& role, const std::string& display, std::uint64_t size,
                Bytes sha256);
  const std::vector<InputUse>& uses() const { return uses_; }
  // The mapped bytes of a file the table holds, by the path it was added
  // under (for the tree loaders: fstree's MappedInputs).
  MappedInputs lookup() const;
  std::size_t files() const { return files_.size(); }

 private:
  InputOpener opener_;
  std::deque<InputFile> files_;  // stable addresses
  std::map<std::filesystem::path, const InputFile*> by_path_;
  std::vector<InputUse> uses_;
};

struct UkiPlanInputs {
  const InputFile* stub = nullptr;
  const InputFile* os_release = nullptr;
  const InputFile* splash = nullptr;
  const InputFile* devicetree = nullptr;
  std::vector<std::pair<std::string, const InputFile*>> sections;
  const InputFile* pcr_public_key = nullptr;
  const InputFile* secureboot_certificate = nullptr;
  UnameSource uname = UnameSource::kAuto;
};

struct SePlanInputs {
  const InputFile* stage3a = nullptr;
  const InputFile* stage3b = nullptr;
  std::vector<const InputFile*> host_keys;
  SeImageLayout layout = SeImageLayout::kGenprotimg;
};

struct RootfsPlanInputs {
  RootfsFormat format = RootfsFormat::kRaw;
  const InputFile* image = nullptr;  // format raw
  VerityLayout verity_layout = VerityLayout::kSeparate;
  PartitionTableType partition_table = PartitionTableType::kGpt;
};

struct SnpPlanInputs {
  const InputFile* firmware = nullptr;
  KernelHashes kernel_hashes = KernelHashes::kAuto;
  std::vector<std::pair<std::string, SnpVmm>> vmms;  // as written, and parsed
};

struct BuildPlan {
  const recipe::Recipe& recipe;
  InputTable inputs;
  Bytes recipe_sha256;
  const InputFile* kernel = nullptr;  // null without a kernel
  RootfsPlanInputs rootfs;
  UkiPlanInputs uki;
  SePlanInputs se;
  SnpPlanInputs snp;
  const InputFile* tdx_firmware = nullptr;
  const InputFile* initdata = nullptr;  // initdata given as a file
};

// The plan of `r` (validated by load_recipe). Throws InputError at the
// recipe place for a value no stage knows, or naming an unreadable file.
BuildPlan make_plan(const recipe::Recipe& r, InputOpener opener = {});

// An initrd tree input is recorded by the SHA-256 of its canonical listing:
// one line per entry with path, type, mode, owner, target and content digest.
// `size` is the sum of its files' sizes. The files are not kept open: a tree
// may hold more files than a process maps.
struct TreeListing {
  std::uint64_t size = 0;
  Bytes sha256;
};
TreeListing tree_listing(const recipe::InitrdTree& t);

// The conversions make_plan uses; each throws InputError at `m`.
RootfsFormat parse_rootfs_format(const std::string& s, const recipe::Mark& m);
VerityLayout parse_verity_layout(const std::string& s, const recipe::Mark& m);
PartitionTableType parse_partition_table(const std::string& s, const recipe::Mark& m);
SeImageLayout parse_se_layout(const std::string& s, const recipe::Mark& m);
KernelHashes parse_kernel_hashes(const std::string& s, const recipe::Mark& m);
SnpVmm parse_snp_vmm(const std::string& s, const recipe::Mark& m);
UnameSource parse_uname_source(const std::string& s);

}  // namespace mkguest
