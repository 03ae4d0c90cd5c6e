// The typed recipe (language v1). See recipes/README.md for every key and
// recipes/schema.json for the JSON Schema editors can use.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

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

struct InitrdSpec {
  bool present = false;
  Compression compression = Compression::kGzip;
  std::optional<int> level;
  std::vector<InitrdFile> early;  // an uncompressed cpio placed first (microcode)
  std::vector<InitrdArchive> archives;
  std::vector<InitrdTree> trees;
  std::vector<InitrdDir> directories;
  std::vector<InitrdFile> files;
  std::vector<InitrdSymlink> symlinks;
  std::vector<InitrdDevice> devices;
};

// `exports`: attestation files written beside the outputs (docs/attestation.md).
struct ExportsSpec {
  bool trustee = false;  // rvps-message.json (+ se/ for IBM SE)
  std::string trustee_namespace = "mkguest.local";
  bool kbs_client_script = false;  // kbs-client.sh
  bool provenance = false;         // provenance.intoto.json (+ reference-values)
  bool sbom = false;               // sbom.spdx.json
  bool any() const { return trustee || provenance || sbom; }
};

struct OutputsSpec {
  bool direct = true;  // kernel, initrd, cmdline
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
  std::string source_date_origin;  // "environment", "recipe" or "default"
  std::string seed;
  PathRef kernel;
  std::vector<CmdlinePart> cmdline;  // joined with single spaces
  InitrdSpec initrd;
  OutputsSpec outputs;
  ExportsSpec exports;

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

}  // namespace mkguest::recipe
