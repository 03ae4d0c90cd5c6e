// Atomic output directories. A build writes into a staging directory beside
// OUTDIR (".<name>.mkguest-<pid>") and commits it with one rename, or an
// atomic exchange (renameat2 RENAME_EXCHANGE) when OUTDIR exists, so readers
// see the old or the new directory, never a mix. Staging directories of
// processes that died (SIGKILL, power loss) are removed by the next build.
#pragma once

#include <filesystem>

namespace mkguest::cli {

class StagedDir {
 public:
  // Refuses to replace an existing OUTDIR that is not empty and holds no
  // manifest.json (it is not one of ours).
  explicit StagedDir(const std::filesystem::path& outdir);
  ~StagedDir();  // removes the staging directory unless committed
  StagedDir(const StagedDir&) = delete;
  StagedDir& operator=(const StagedDir&) = delete;

  const std::filesystem::path& path() const { return staging_; }
  void commit();

 private:
  std::filesystem::path outdir_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

// Removes leftover staging directories of dead processes next to `outdir`.
void remove_stale_staging(const std::filesystem::path& outdir);

}  // namespace mkguest::cli
