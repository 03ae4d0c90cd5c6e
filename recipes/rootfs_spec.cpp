// The `rootfs` section: the root filesystem image and its dm-verity tree
// (recipes/README.md "## rootfs"). The verity keys are validated here against
// what veritysetup and the kernel accept (spec docs/specs/verity-rootfs.md §1-2).
#include <filesystem>
#include <map>
#include <set>

#include "base/digest.h"
#include "recipes/checker.h"

namespace mkguest::recipe {

namespace fs = std::filesystem;

namespace {

std::uint32_t block_size(const Checker& c, const Node& n, const std::string& key) {
  std::int64_t v = c.integer(n, key, 512, 512 * 1024);
  if (v & (v - 1)) c.fail(n.mark, "'" + key + "' must be a power of two from 512 to 524288");
  return static_cast<std::uint32_t>(v);
}

const std::set<std::string>& known_options() {
  static const std::set<std::string> k = {
      "ignore_corruption", "restart_on_corruption", "panic_on_corruption", "restart_on_error",
      "panic_on_error",    "ignore_zero_blocks",    "check_at_most_once"};
  return k;
}

VeritySpec read_verity(const Checker& c, const Node& n) {
  VeritySpec v;
  v.present = true;
  v.mark = n.mark;
  if (n.is_null()) return v;  // `verity:` alone: every default
  MapView m(c, n, "verity");
  if (const Node* x = m.opt("hash")) {
    v.hash = c.choice(*x, "hash", {"sha256", "sha512", "sha384", "sha1"});
  }
  if (const Node* x = m.opt("format"))
    v.format = static_cast<std::uint32_t>(c.integer(*x, "format", 0, 1));
  if (const Node* x = m.opt("data_block_size"))
    v.data_block_size = block_size(c, *x, "data_block_size");
  if (const Node* x = m.opt("hash_block_size"))
    v.hash_block_size = block_size(c, *x, "hash_block_size");
  if (const Node* x = m.opt("salt")) {
    std::string s = c.string(*x, "salt");
    if (s == "none") {
      v.salt = std::vector<std::uint8_t>{};
    } else if (s != "auto") {
      Bytes b;
      if (!from_hex(s, &b) || b.empty() || b.size() > 256) {
        c.fail(x->mark, "'salt' must be auto, none, or 1 to 256 bytes of hex");
      }
      v.salt = b;
    }
  }
  if (const Node* x = m.opt("salt_size")) {
    if (v.salt) c.fail(x->mark, "conflicting options: 'salt_size' is for 'salt: auto'");
    v.salt_size = static_cast<std::size_t>(c.integer(*x, "salt_size", 0, 256));
  }
  if (const Node* x = m.opt("superblock")) v.superblock = c.boolean(*x, "superblock");
  if (const Node* x = m.opt("layout")) {
    v.layout = c.choice(*x, "layout", {"separate", "appended", "partitioned"});
  }
  if (const Node* x = m.opt("partition_table")) {
    if (v.layout != "partitioned") {
      c.fail(x->mark, "conflicting options: 'partition_table' needs 'layout: partitioned'");
    }
    v.partition_table = c.choice(*x, "partition_table", {"gpt", "mbr"});
  }
  if (const Node* x = m.opt("arch")) v.arch = c.choice(*x, "arch", {"x86-64", "arm64", "s390x"});
  auto device = [&](const char* key) {
    const Node* x = m.opt(key);
    if (!x) return std::string();
    std::string d = c.string(*x, key);
    if (d.empty() || d.find_first_of(" \t\",;'") != std::string::npos) {
      c.fail(x->mark,
             std::string("'") + key + "' must be a device name without spaces, quotes, ',' or ';'");
    }
    return d;
  };
  v.data_device = device("data_device");
  v.hash_device = device("hash_device");
  if (v.data_device.empty()) {
    v.data_device = v.layout == "partitioned" ? "/dev/vda1" : "/dev/vda";
  }
  if (v.hash_device.empty()) {
    v.hash_device = v.layout == "partitioned" ? "/dev/vda2"
                    : v.layout == "appended"  ? v.data_device
                                              : "/dev/vdb";
  }
  if (const Node* x = m.opt("options")) {
    std::set<std::string> seen;
    int policies = 0;
    for (const auto& item : c.list(*x, "options")) {
      std::string o = c.string(item, "options");
      if (!known_options().count(o)) {
        std::string all;
        for (const auto& k : known_options()) all += (all.empty() ? "" : ", ") + k;
        c.fail(item.mark, "unknown dm-verity option '" + o + "' (one of: " + all + ")");
      }
      if (!seen.insert(o).second) c.fail(item.mark, "'" + o + "' is listed twice");
      if (o.find("_on_corruption") != std::string::npos || o == "ignore_corruption") ++policies;
      if (policies > 1) c.fail(item.mark, "conflicting options: one corruption policy at most");
      v.options.push_back(o);
    }
  }
  if (const Node* x = m.opt("pad")) v.pad = c.boolean(*x, "pad");
  if (const Node* x = m.opt("wiring")) {
    v.wiring = c.choice(*x, "wiring", {"none", "kata"});
    v.wiring_mark = x->mark;
    // What Kata's runtime can express (kata-types kernel_verity_params and
    // its dm-mod.create, docs/kata.md §8): format 1, sha256, no superblock,
    // the data on partition 1 and the tree at block 0 of partition 2, no
    // optional arguments.
    if (v.wiring == "kata" && (v.layout != "partitioned" || v.format != 1 || v.hash != "sha256" ||
                               v.superblock || !v.options.empty()))
      c.fail(x->mark,
             "wiring: kata needs the table Kata's runtime builds: layout partitioned, format 1, "
             "hash sha256, no superblock and no options");
  }
  m.done();
  return v;
}

// One `rootfs.files` item: {dst, src, mode, uid, gid} (a file, or a directory
// tree when src is one), {dst, type: directory, mode, uid, gid} or
// {dst, type: symlink, target, uid, gid}.
RootfsFile read_rootfs_file(const Checker& c, const Node& n) {
  MapView m(c, n, "files");
  RootfsFile f;
  f.mark = n.mark;
  f.dst = c.image_path(m.req("dst"), "dst", /*allow_root=*/true);
  std::string type = "file";
  if (const Node* x = m.opt("type")) type = c.choice(*x, "type", {"file", "directory", "symlink"});
  const Node* src = m.opt("src");
  const Node* target = m.opt("target");
  if (type == "file") {
    if (!src) c.fail(n.mark, "missing key 'src' (a host file or directory) in 'files'");
    fs::path p(src->scalar);
    fs::path resolved = (p.is_absolute() ? p : src->base_dir / p).lexically_normal();
    std::error_code ec;
    bool dir = fs::is_directory(resolved, ec);
    f.kind = dir ? RootfsFile::Kind::kTree : RootfsFile::Kind::kFile;
    f.src = c.path(*src, "src", dir);
    if (f.dst.empty() && !dir) c.fail(m.req("dst").mark, "'dst' must name a path below '/'");
  } else {
    if (src) c.fail(src->mark, "conflicting options: 'src' is for files (type: file)");
    f.kind = type == "directory" ? RootfsFile::Kind::kDirectory : RootfsFile::Kind::kSymlink;
    if (f.dst.empty() && f.kind == RootfsFile::Kind::kSymlink) {
      c.fail(m.req("dst").mark, "'dst' must name a path below '/'");
    }
  }
  if (type == "symlink") {
    if (!target) c.fail(n.mark, "missing key 'target' in a symlink of 'files'");
    f.target = c.string(*target, "target");
    if (f.target.empty()) c.fail(target->mark, "'target' must not be empty");
  } else if (target) {
    c.fail(target->mark, "conflicting options: 'target' is for 'type: symlink'");
  }
  if (const Node* x = m.opt("mode")) {
    if (f.kind == RootfsFile::Kind::kSymlink || f.kind == RootfsFile::Kind::kTree) {
      c.fail(x->mark,
             "conflicting options: 'mode' is for files and directories (trees keep "
             "their modes, symlinks are 0777)");
    }
    f.mode = c.mode(*x, "mode");
  }
  if (const Node* x = m.opt("uid")) f.owner.uid = c.u32(*x, "uid");
  if (const Node* x = m.opt("gid")) f.owner.gid = c.u32(*x, "gid");
  m.done();
  return f;
}

}  // namespace

RootfsSpec read_rootfs(const Checker& c, const Node& n) {
  RootfsSpec r;
  r.present = true;
  r.mark = n.mark;
  MapView m(c, n, "rootfs");
  r.format = c.choice(m.req("format"), "format", {"raw", "erofs"});
  const Node& src = m.req("source");
  if (r.format == "erofs") {
    // A directory, an archive, or a list of them applied as OCI layers.
    auto layer = [&](const Node& item) {
      fs::path p(item.scalar);
      fs::path resolved = (p.is_absolute() ? p : item.base_dir / p).lexically_normal();
      std::error_code ec;
      r.layers.push_back(c.path(item, "source", fs::is_directory(resolved, ec)));
    };
    if (src.is_seq()) {
      if (src.seq.empty()) c.fail(src.mark, "'source' must list at least one layer");
      for (const Node& item : src.seq) layer(item);
    } else {
      layer(src);
    }
    r.source = r.layers.front();
  } else {
    r.source = c.path(src, "source");
  }
  if (const Node* v = m.opt("files")) {
    if (r.format != "erofs") {
      c.fail(v->mark,
             "conflicting options: 'files' needs 'format: erofs' (a raw image is used "
             "as it is)");
    }
    std::map<std::string, Mark> seen;
    for (const auto& item : c.list(*v, "files")) {
      r.files.push_back(read_rootfs_file(c, item));
      auto [it, fresh] = seen.emplace(r.files.back().dst, item.mark);
      if (!fresh) {
        c.fail(item.mark, "'/" + r.files.back().dst + "' is already declared at " +
                              it->second.file + ":" + it->second.place());
      }
    }
  }
  if (const Node* v = m.opt("verity")) r.verity = read_verity(c, *v);
  m.done();
  return r;
}

const std::map<std::string, std::string>& verity_variables() {
  static const std::map<std::string, std::string> v = {
      {"verity.root_hash", "the dm-verity root hash (hex)"},
      {"verity.salt", "the dm-verity salt (hex, or - when empty)"},
      {"verity.data_blocks", "number of data blocks covered"},
      {"verity.data_block_size", "data block size in bytes"},
      {"verity.hash_block_size", "hash block size in bytes"},
      {"verity.hash_start", "hash start block on the hash device (the table's 9th field)"},
      {"verity.data_sectors", "data size in 512-byte sectors"},
      {"verity.kata_params", "Kata's kernel_verity_params string"},
      {"verity.dm_mod_create", "dm-mod.create=\"...\" root=/dev/dm-0, as Kata's runtime emits it"},
      {"verity.systemd", "roothash= systemd.verity_root_data= ... systemd.verity_root_options="},
  };
  return v;
}

}  // namespace mkguest::recipe
