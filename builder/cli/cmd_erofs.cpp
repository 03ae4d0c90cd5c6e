// `mkguest erofs SOURCE... -o IMAGE [--source-date-epoch N] [--uuid U]`: an
// uncompressed EROFS image written in-process (builder/formats/erofs/writer.h), the
// way `mkfs.erofs` would, with no root, mount or extraction.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "base/atomic_file.h"
#include "base/error.h"
#include "base/sink.h"
#include "builder/cli/commands.h"
#include "builder/formats/erofs/rootfs.h"

namespace mkguest::cli {

namespace fs = std::filesystem;

namespace {

struct ErofsArgs {
  std::vector<std::string> sources;
  std::string output;
  std::string source_date_epoch;
  std::string uuid;
  std::string seed;
  bool force = false;
};

void run_erofs(const ErofsArgs& a) {
  RootfsSource src;
  for (const auto& s : a.sources) src.layers.emplace_back(s);
  ErofsOptions opt;
  std::string sde = a.source_date_epoch;
  if (sde.empty()) {
    if (const char* env = std::getenv("SOURCE_DATE_EPOCH")) sde = env;
  }
  if (!sde.empty()) {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(sde.c_str(), &end, 10);
    if (errno || *end || end == sde.c_str() || v < 0) {
      throw UsageError("--source-date-epoch: not a non-negative integer: '" + sde + "'");
    }
    opt.build_time = v;
  }
  src.source_date = opt.build_time;
  fs::path out(a.output);
  // Archive contents wait in an unlinked scratch file beside the output (a
  // disk the image goes to anyway; /tmp may be memory-backed).
  src.limits.spill_dir = fs::absolute(out).parent_path();
  check_output_target(out, a.force);  // before the long part
  FsTree tree = load_rootfs_source(src);
  if (!a.uuid.empty()) {
    if (!parse_uuid(a.uuid, &opt.uuid)) throw UsageError("--uuid: malformed UUID '" + a.uuid + "'");
  } else {
    opt.uuid = erofs_uuid_from_seed(a.seed.empty() ? tree_seed(tree) : a.seed);
  }
  AtomicFile file(out, a.force);
  const ErofsStats stats = write_erofs(tree, opt, file);
  file.commit();
  std::cout << "Inodes: " << stats.inodes << "\nBlocks: " << stats.blocks
            << "\nExtended inodes: " << stats.extended_inodes << "\n";
}

}  // namespace

void register_erofs(CLI::App& app) {
  auto a = std::make_shared<ErofsArgs>();
  auto* cmd = app.add_subcommand(
      "erofs",
      "Write an uncompressed EROFS image from directories and tar archives.\n"
      "A SOURCE directory is read with its modes, owned by root (like mkfs.erofs --all-root);\n"
      "tar archives (any compression) keep owners, modes, devices and xattrs from their\n"
      "headers, even for a non-root caller. Sources are applied in order as OCI layers\n"
      "(.wh.<name> and .wh..wh..opq whiteouts). mtimes are clamped to the source date,\n"
      "which is also the image build time (default: SOURCE_DATE_EPOCH, else 0).");
  cmd->add_option("SOURCE", a->sources, "Directory or tar archive (several: layers, lowest first)")
      ->required();
  cmd->add_option("-o,--output", a->output, "Image to write (replaced atomically)")->required();
  cmd->add_flag("--force", a->force,
                "replace an output that is not a regular file (a symlink, a device node) "
                "instead of refusing; the entry is replaced, never written through");
  cmd->add_option("--source-date-epoch", a->source_date_epoch,
                  "Build time and mtime clamp, in seconds (default: $SOURCE_DATE_EPOCH or 0)");
  cmd->add_option("--uuid", a->uuid, "Filesystem UUID (default: derived from --seed)");
  cmd->add_option("--seed", a->seed,
                  "Seed for the UUID (default: a digest of the tree's names and metadata)");
  cmd->callback([a] { run_erofs(*a); });
}

}  // namespace mkguest::cli
