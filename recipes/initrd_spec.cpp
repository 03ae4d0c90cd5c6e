// The `initrd` section: what goes into the initramfs and how it is compressed.
#include <map>

#include "recipes/checker.h"

namespace mkguest::recipe {

namespace {

Owner read_owner(const Checker& c, MapView& m) {
  Owner o;
  if (const Node* v = m.opt("uid")) o.uid = c.u32(*v, "uid");
  if (const Node* v = m.opt("gid")) o.gid = c.u32(*v, "gid");
  return o;
}

InitrdFile read_file(const Checker& c, const Node& n, const std::string& section) {
  MapView m(c, n, section);
  InitrdFile f;
  f.mark = n.mark;
  f.src = c.path(m.req("src"), "src");
  f.dst = c.image_path(m.req("dst"), "dst");
  if (const Node* v = m.opt("mode")) f.mode = c.mode(*v, "mode");
  f.owner = read_owner(c, m);
  m.done();
  return f;
}

// Explicit entries may not declare the same path twice.
class PathClaims {
 public:
  explicit PathClaims(const Checker& c) : c_(c) {}
  void claim(const std::string& path, const Mark& mark) {
    auto [it, fresh] = seen_.emplace(path, mark);
    if (!fresh) {
      c_.fail(mark, "'/" + path + "' is already declared at " + it->second.file + ":" +
                        it->second.place());
    }
  }

 private:
  const Checker& c_;
  std::map<std::string, Mark> seen_;
};

}  // namespace

InitrdSpec read_initrd(const Checker& c, const Node& n) {
  InitrdSpec s;
  s.present = true;
  MapView m(c, n, "initrd");
  if (const Node* v = m.opt("compression")) {
    std::string name = c.choice(*v, "compression", {"none", "gzip", "zstd", "xz"});
    s.compression = name == "none"   ? Compression::kNone
                    : name == "gzip" ? Compression::kGzip
                    : name == "zstd" ? Compression::kZstd
                                     : Compression::kXz;
  }
  if (const Node* v = m.opt("level")) {
    switch (s.compression) {
      case Compression::kNone:
        c.fail(v->mark, "conflicting options: 'level' has no meaning with compression 'none'");
      case Compression::kGzip:
        s.level = static_cast<int>(c.integer(*v, "level", 1, 9));
        break;
      case Compression::kZstd:
        s.level = static_cast<int>(c.integer(*v, "level", 1, 19));
        break;
      case Compression::kXz:
        s.level = static_cast<int>(c.integer(*v, "level", 0, 9));
        break;
    }
  }
  PathClaims claims(c);
  if (const Node* v = m.opt("early")) {
    for (const auto& item : c.list(*v, "early")) s.early.push_back(read_file(c, item, "early"));
  }
  if (const Node* v = m.opt("archives")) {
    for (const auto& item : c.list(*v, "archives")) {
      InitrdArchive a;
      a.mark = item.mark;
      if (item.is_scalar()) {
        a.src = c.path(item, "archives");
      } else {
        MapView am(c, item, "archives");
        a.src = c.path(am.req("src"), "src");
        if (const Node* d = am.opt("dst")) a.dst = c.image_path(*d, "dst", true);
        if (const Node* d = am.opt("drop")) {
          for (const auto& what : c.list(*d, "drop")) {
            std::string w = c.choice(what, "drop", {"devices", "setid", "xattrs"});
            (w == "devices" ? a.drop_devices : w == "setid" ? a.drop_setid : a.drop_xattrs) = true;
          }
        }
        am.done();
      }
      s.archives.push_back(a);
    }
  }
  if (const Node* v = m.opt("trees")) {
    for (const auto& item : c.list(*v, "trees")) {
      MapView tm(c, item, "trees");
      InitrdTree t;
      t.mark = item.mark;
      t.src = c.path(tm.req("src"), "src", /*directory=*/true);
      if (const Node* d = tm.opt("dst")) t.dst = c.image_path(*d, "dst", true);
      t.owner = read_owner(c, tm);
      if (const Node* md = tm.opt("modes")) {
        t.preserve_modes = c.choice(*md, "modes", {"normalize", "preserve"}) == "preserve";
      }
      tm.done();
      s.trees.push_back(t);
    }
  }
  if (const Node* v = m.opt("binaries")) {
    MapView bm(c, *v, "binaries");
    s.binaries.present = true;
    s.binaries.mark = v->mark;
    s.binaries.sysroot = c.path(bm.req("sysroot"), "sysroot", /*directory=*/true);
    for (const auto& item : c.list(bm.req("paths"), "paths"))
      s.binaries.paths.push_back(c.image_path(item, "paths"));
    bm.done();
  }
  if (const Node* v = m.opt("modules")) {
    MapView mm(c, *v, "modules");
    s.modules.present = true;
    s.modules.mark = v->mark;
    s.modules.dir = c.path(mm.req("dir"), "dir", /*directory=*/true);
    for (const auto& item : c.list(mm.req("load"), "load")) {
      std::string name = c.string(item, "load");
      if (name.empty() || name.find('/') != std::string::npos)
        c.fail(item.mark, "'" + name + "' is not a module name");
      s.modules.names.push_back(name);
    }
    mm.done();
  }
  if (const Node* v = m.opt("directories")) {
    for (const auto& item : c.list(*v, "directories")) {
      InitrdDir d;
      d.mark = item.mark;
      if (item.is_scalar()) {
        d.path = c.image_path(item, "directories");
      } else {
        MapView dm(c, item, "directories");
        d.path = c.image_path(dm.req("path"), "path");
        if (const Node* md = dm.opt("mode")) d.mode = c.mode(*md, "mode");
        d.owner = read_owner(c, dm);
        dm.done();
      }
      claims.claim(d.path, d.mark);
      s.directories.push_back(d);
    }
  }
  if (const Node* v = m.opt("files")) {
    for (const auto& item : c.list(*v, "files")) {
      s.files.push_back(read_file(c, item, "files"));
      claims.claim(s.files.back().dst, item.mark);
    }
  }
  if (const Node* v = m.opt("symlinks")) {
    for (const auto& item : c.list(*v, "symlinks")) {
      MapView lm(c, item, "symlinks");
      InitrdSymlink l;
      l.mark = item.mark;
      l.path = c.image_path(lm.req("path"), "path");
      l.target = c.string(lm.req("target"), "target");
      if (l.target.empty()) c.fail(lm.req("target").mark, "'target' must not be empty");
      l.owner = read_owner(c, lm);
      lm.done();
      claims.claim(l.path, l.mark);
      s.symlinks.push_back(l);
    }
  }
  if (const Node* v = m.opt("devices")) {
    for (const auto& item : c.list(*v, "devices")) {
      MapView dm(c, item, "devices");
      InitrdDevice d;
      d.mark = item.mark;
      d.path = c.image_path(dm.req("path"), "path");
      d.block = c.choice(dm.req("type"), "type", {"char", "block"}) == "block";
      d.major = static_cast<std::uint32_t>(c.integer(dm.req("major"), "major", 0, 4095));
      d.minor = static_cast<std::uint32_t>(c.integer(dm.req("minor"), "minor", 0, 1048575));
      if (const Node* md = dm.opt("mode")) d.mode = c.mode(*md, "mode");
      d.owner = read_owner(c, dm);
      dm.done();
      claims.claim(d.path, d.mark);
      s.devices.push_back(d);
    }
  }
  m.done();
  return s;
}

}  // namespace mkguest::recipe
