// Programs with their libraries, and kernel modules with their dependencies,
// resolved inside a sysroot (see initrd_deps.h).
#include "builder/fstree/initrd_deps.h"

#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "base/error.h"
#include "base/file.h"
#include "builder/fstree/elf_deps.h"

namespace mkguest {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t slash = p.find('/', start);
    if (slash == std::string::npos) slash = p.size();
    if (slash > start) out.push_back(p.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

std::string join_path(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : "/") + p;
  return s;
}

// Canonical path resolution inside the sysroot; returns the canonical
// resolved path, or "" with ok=false when a component is missing.
std::string resolve_canonical(const fs::path& sysroot, const std::string& canonical, bool& ok) {
  std::vector<std::string> todo = split_path(canonical);
  std::vector<std::string> done;
  int hops = 0;
  std::size_t i = 0;
  ok = false;
  while (i < todo.size()) {
    const std::string comp = todo[i++];
    if (comp == ".") continue;
    if (comp == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(comp);
    const fs::path host = sysroot / join_path(done);
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) return {};
    if (S_ISLNK(st.st_mode)) {
      if (++hops > 40) return {};
      std::error_code ec;
      const std::string target = fs::read_symlink(host, ec).string();
      if (ec || target.empty()) return {};
      done.pop_back();
      std::vector<std::string> rest(todo.begin() + static_cast<std::ptrdiff_t>(i), todo.end());
      std::vector<std::string> next = split_path(target);
      if (target[0] == '/') done.clear();
      next.insert(next.end(), rest.begin(), rest.end());
      todo = std::move(next);
      i = 0;
    } else if (i < todo.size() && !S_ISDIR(st.st_mode)) {
      return {};
    }
  }
  ok = true;
  return join_path(done);
}

std::string dir_of(const std::string& canonical) {
  const auto slash = canonical.rfind('/');
  return slash == std::string::npos ? "" : canonical.substr(0, slash);
}

std::string strip_slash(const std::string& p) {
  std::size_t i = 0;
  while (i < p.size() && p[i] == '/') ++i;
  return p.substr(i);
}

bool regular_file(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

fs::path resolve_in_sysroot(const fs::path& sysroot, const std::string& canonical) {
  bool ok = false;
  const std::string r = resolve_canonical(sysroot, canonical, ok);
  if (!ok || r.empty()) return {};
  const fs::path host = sysroot / r;
  return regular_file(host) ? host : fs::path();
}

std::vector<ResolvedFile> resolve_binaries(const fs::path& sysroot,
                                           const std::vector<std::string>& paths,
                                           const std::string& where, const std::string& place) {
  std::vector<ResolvedFile> out;
  std::set<std::string> placed;
  struct Work {
    std::string image_path;
    fs::path host;
  };
  std::vector<Work> queue;
  auto fail = [&](const std::string& msg) -> void {
    throw InputError(where, place, "initrd.binaries: " + msg);
  };
  for (const auto& p : paths) {
    const fs::path host = resolve_in_sysroot(sysroot, p);
    if (host.empty()) fail("'/" + p + "' is not a file in the sysroot " + sysroot.string());
    if (placed.insert(p).second) {
      out.push_back({p, host, true, "listed"});
      queue.push_back({p, host});
    }
  }
  for (std::size_t q = 0; q < queue.size(); ++q) {
    const Work w = queue[q];
    const Bytes data = read_file(w.host);
    if (!is_elf(data)) continue;  // a script: nothing to resolve
    const ElfDeps d = parse_elf_deps(data, w.host.string());
    const std::string triplet = multiarch_triplet(d.machine, d.is_64);
    if (!d.interpreter.empty()) {
      const std::string ip = strip_slash(d.interpreter);
      const fs::path host = resolve_in_sysroot(sysroot, ip);
      if (host.empty())
        fail("the interpreter " + d.interpreter + " of /" + w.image_path +
             " is not in the sysroot " + sysroot.string());
      if (placed.insert(ip).second) {
        out.push_back({ip, host, true, "interpreter of /" + w.image_path});
        queue.push_back({ip, host});
      }
    }
    std::vector<std::string> dirs;
    for (const auto& rp : d.runpath) {
      std::string s = rp;
      const auto o = s.find("$ORIGIN");
      if (o != std::string::npos) s.replace(o, 7, "/" + dir_of(w.image_path));
      if (s.find('$') != std::string::npos || s.empty() || s[0] != '/') continue;
      dirs.push_back(strip_slash(s));
    }
    if (!triplet.empty()) {
      dirs.push_back("lib/" + triplet);
      dirs.push_back("usr/lib/" + triplet);
    }
    if (d.is_64) {
      dirs.push_back("lib64");
      dirs.push_back("usr/lib64");
    }
    dirs.push_back("lib");
    dirs.push_back("usr/lib");
    for (const auto& lib : d.needed) {
      std::string found;
      fs::path host;
      for (const auto& dir : dirs) {
        const std::string cand = dir + "/" + lib;
        if (placed.count(cand)) {
          found = cand;
          break;
        }
        host = resolve_in_sysroot(sysroot, cand);
        if (host.empty()) continue;
        // ld.so skips objects of another class or machine.
        const Bytes head = read_file(host);
        if (!is_elf(head)) continue;
        const ElfDeps ld = parse_elf_deps(head, host.string());
        if (ld.is_64 != d.is_64 || ld.machine != d.machine) continue;
        found = cand;
        break;
      }
      if (found.empty()) {
        std::string searched;
        for (const auto& dir : dirs) searched += (searched.empty() ? "/" : ", /") + dir;
        fail(lib + " (needed by /" + w.image_path + ") is not in the sysroot " + sysroot.string() +
             " (searched " + searched + ")");
      }
      if (placed.insert(found).second) {
        out.push_back({found, host, true, "needed by /" + w.image_path});
        queue.push_back({found, host});
      }
    }
  }
  return out;
}

namespace {

std::string module_key(const std::string& path) {
  std::string base = path.substr(path.rfind('/') + 1);
  for (const char* ext : {".ko.xz", ".ko.zst", ".ko.gz", ".ko"}) {
    const std::string e = ext;
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0) {
      base.resize(base.size() - e.size());
      break;
    }
  }
  for (char& c : base)
    if (c == '-') c = '_';
  return base;
}

}  // namespace

ResolvedModules resolve_modules(const fs::path& dir, const std::string& display,
                                const std::vector<std::string>& names, const std::string& where,
                                const std::string& place) {
  ResolvedModules r;
  // The directory's own name, also when the recipe names it through a link.
  std::error_code ec;
  const fs::path real = fs::canonical(dir, ec);
  r.kernel_version = (ec ? dir : real).filename().string();
  const fs::path dep_file = dir / "modules.dep";
  if (!regular_file(dep_file))
    throw InputError(
        where, place,
        "initrd.modules: " + display + " has no modules.dep (run depmod for that kernel)");
  std::map<std::string, std::pair<std::string, std::vector<std::string>>>
      deps;                                  // key -> path, deps
  std::map<std::string, std::string> lines;  // path -> the modules.dep line
  {
    std::ifstream in(dep_file);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty()) continue;
      const auto colon = line.find(':');
      if (colon == std::string::npos)
        throw InputError(display + "/modules.dep", std::to_string(n), "no ':' on this line");
      const std::string path = line.substr(0, colon);
      std::istringstream rest(line.substr(colon + 1));
      std::vector<std::string> ds;
      for (std::string d; rest >> d;) ds.push_back(d);
      deps[module_key(path)] = {path, ds};
      lines[path] = line;
    }
  }
  std::set<std::string> builtin;
  {
    std::ifstream in(dir / "modules.builtin");
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) builtin.insert(module_key(line));
  }
  // Soft dependencies (modules.softdep: "softdep MOD pre: A B post: C") name
  // modules or aliases, looked up as kmod does: a module name, then
  // modules.alias, then the kernel's built-in names and aliases (nothing to
  // add). Unknown ones are skipped, as modprobe skips them.
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> soft;
  {
    std::ifstream in(dir / "modules.softdep");
    for (std::string line; std::getline(in, line);) {
      std::istringstream l(line);
      std::string word, mod;
      if (!(l >> word >> mod) || word != "softdep") continue;
      // modprobe (kmod) honours the first softdep line of a module only.
      if (soft.count(module_key(mod))) continue;
      auto& entry = soft[module_key(mod)];
      std::vector<std::string>* into = nullptr;
      while (l >> word) {
        if (word == "pre:")
          into = &entry.first;
        else if (word == "post:")
          into = &entry.second;
        else if (into)
          into->push_back(word);
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> aliases;  // pattern -> module
  {
    std::ifstream in(dir / "modules.alias");
    for (std::string line; std::getline(in, line);) {
      std::istringstream l(line);
      std::string word, pattern, mod;
      if (l >> word >> pattern >> mod && word == "alias")
        aliases.emplace_back(pattern, module_key(mod));
    }
  }
  auto soft_targets = [&](const std::string& name) {
    std::vector<std::string> out;
    const std::string key = module_key(name);
    if (deps.count(key)) return std::vector<std::string>{deps[key].first};
    for (const auto& [pattern, mod] : aliases)
      if (::fnmatch(pattern.c_str(), name.c_str(), 0) == 0 && deps.count(mod))
        out.push_back(deps[mod].first);
    return out;
  };
  std::set<std::string> have;
  std::vector<std::string> order;
  // Depth-first: every module after the modules it depends on.
  std::function<void(const std::string&, const std::string&)> add = [&](const std::string& path,
                                                                        const std::string& why) {
    if (have.count(path)) return;
    have.insert(path);
    const auto sit = soft.find(module_key(path));
    if (sit != soft.end())
      for (const auto& n : sit->second.first)
        for (const auto& t : soft_targets(n)) add(t, "soft dependency of " + module_key(path));
    const auto it = deps.find(module_key(path));
    if (it == deps.end() || it->second.first != path)
      throw InputError(display + "/modules.dep", "",
                       "'" + path + "' (" + why + ") has no line of its own");
    for (const auto& d : it->second.second) add(d, "needed by " + module_key(path));
    const fs::path host = dir / path;
    if (!regular_file(host))
      throw InputError(where, place, "initrd.modules: " + display + "/" + path + " is missing");
    r.files.push_back({"lib/modules/" + r.kernel_version + "/" + path, host, false, why});
    order.push_back(path);
    if (sit != soft.end())
      for (const auto& n : sit->second.second)
        for (const auto& t : soft_targets(n)) add(t, "soft dependency of " + module_key(path));
  };
  for (const auto& name : names) {
    const std::string key = module_key(name);
    const auto it = deps.find(key);
    if (it != deps.end()) {
      add(it->second.first, "listed");
    } else if (!builtin.count(key)) {
      throw InputError(where, place,
                       "initrd.modules: no module '" + name + "' in " + display +
                           "/modules.dep or modules.builtin");
    }
  }
  std::vector<std::string> sorted(have.begin(), have.end());
  for (const auto& p : sorted) r.modules_dep += lines[p] + "\n";
  for (const char* extra :
       {"modules.builtin", "modules.builtin.modinfo", "modules.order", "modules.softdep"}) {
    const fs::path host = dir / extra;
    if (regular_file(host))
      r.extras.push_back({"lib/modules/" + r.kernel_version + "/" + extra, host, false, "copied"});
  }
  return r;
}

}  // namespace mkguest
