// Inputs of an initrd resolved the way dracut resolves them, but inside a
// sysroot instead of the build host: programs with the shared libraries they
// need (ELF PT_INTERP, DT_NEEDED, DT_RUNPATH; see elf_deps.h), and kernel
// modules with the modules they depend on (modules.dep, as depmod writes it).
// Symlinks are followed inside the sysroot (an absolute target is taken
// relative to the sysroot, never to the host), and the files are copied
// under the paths the loaders look them up by.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mkguest {

struct ResolvedFile {
  std::string image_path;           // canonical path in the initrd
  std::filesystem::path host_path;  // the regular file that holds the bytes
  bool executable = false;
  std::string why;  // e.g. "needed by usr/sbin/veritysetup"
};

// Follows `canonical` (relative, no leading '/') inside `sysroot`, symlinks
// included (at most 40), to a regular file. Returns its host path, or an
// empty path when nothing is there.
std::filesystem::path resolve_in_sysroot(const std::filesystem::path& sysroot,
                                         const std::string& canonical);

// The programs at `paths` (canonical) and everything they load, in a stable
// order. Errors name `where` (the recipe place of `initrd.binaries`).
std::vector<ResolvedFile> resolve_binaries(const std::filesystem::path& sysroot,
                                           const std::vector<std::string>& paths,
                                           const std::string& where, const std::string& place);

struct ResolvedModules {
  std::string kernel_version;        // the name of the modules directory
  std::vector<ResolvedFile> files;   // modules, deps first
  std::string modules_dep;           // the subset of modules.dep for them
  std::vector<ResolvedFile> extras;  // modules.builtin, modules.order... copied as they are
};

// Kernel modules by name ("dm-verity" and "dm_verity" are the same) from a
// /lib/modules/<version> directory that has a modules.dep. A module built
// into the kernel (modules.builtin) needs no file. Errors name `where`.
ResolvedModules resolve_modules(const std::filesystem::path& dir, const std::string& display,
                                const std::vector<std::string>& names, const std::string& where,
                                const std::string& place);

}  // namespace mkguest
