// initrd.binaries and initrd.modules: ELF dependencies checked against
// readelf and ldd, module closures against kmod's modprobe --show-depends,
// and resolution that never leaves the sysroot.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "base/error.h"
#include "base/file.h"
#include "builder/fstree/elf_deps.h"
#include "builder/fstree/initrd_deps.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> readelf_needed(const fs::path& f) {
  auto r = test::run({"readelf", "-d", f.string()});
  std::vector<std::string> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find("(NEEDED)");
    if (a == std::string::npos) continue;
    const auto l = line.find('[', a), rb = line.find(']', a);
    out.push_back(line.substr(l + 1, rb - l - 1));
  }
  return out;
}

std::string readelf_interp(const fs::path& f) {
  auto r = test::run({"readelf", "-l", f.string()});
  const std::string key = "Requesting program interpreter: ";
  const auto a = r.out.find(key);
  if (a == std::string::npos) return "";
  return r.out.substr(a + key.size(), r.out.find(']', a) - a - key.size());
}

std::string basename_of(const std::string& p) { return p.substr(p.rfind('/') + 1); }

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("ELF dependencies equal readelf's on host programs and libraries", "[initrd][elf]") {
  if (!test::have_tool("readelf")) {
    test::skip_or_fail("readelf missing (scripts/install-deps --test installs binutils)");
    return;
  }
  int checked = 0;
  for (const char* p :
       {"/usr/sbin/veritysetup", "/bin/ls", "/usr/bin/python3", "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/libcrypto.so.3"}) {
    if (!fs::exists(p)) continue;
    INFO(p);
    const auto bytes = read_file(p);
    const ElfDeps d = parse_elf_deps(bytes, p);
    CHECK(d.needed == readelf_needed(p));
    CHECK(d.interpreter == readelf_interp(p));
    ++checked;
  }
  CHECK(checked >= 2);
}

TEST_CASE("programs resolve to the libraries ldd lists", "[initrd][elf]") {
  const fs::path prog = "/usr/sbin/veritysetup";
  if (!fs::exists(prog) || !test::have_tool("ldd")) {
    test::skip_or_fail(
        "veritysetup or ldd missing (scripts/install-deps --test installs cryptsetup-bin; ldd is "
        "in libc-bin)");
    return;
  }
  const auto files = resolve_binaries("/", {"usr/sbin/veritysetup"}, "r.yaml", "3:5");
  std::set<std::string> mine;
  for (const auto& f : files) mine.insert(basename_of(f.image_path));
  auto r = test::run({"ldd", prog.string()});
  REQUIRE(r.exit_code == 0);
  std::set<std::string> theirs{"veritysetup"};
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream l(line);
    std::string first;
    l >> first;
    if (first.rfind("linux-vdso", 0) == 0) continue;
    theirs.insert(basename_of(first));
  }
  CHECK(mine == theirs);
}

TEST_CASE("resolution stays inside the sysroot", "[initrd][elf]") {
  test::TempDir d;
  const fs::path root = d / "sysroot";
  fs::create_directories(root / "usr/bin");
  fs::create_directories(root / "lib");
  fs::copy_file("/bin/true", root / "usr/bin/true");
  // An absolute symlink is taken inside the sysroot, not on the host.
  fs::create_symlink("/etc/passwd", root / "usr/bin/escape");
  CHECK(error_of([&] { resolve_binaries(root, {"usr/bin/escape"}, "r.yaml", "4:7"); }) ==
        "r.yaml:4:7: error: initrd.binaries: '/usr/bin/escape' is not a file in the sysroot " +
            root.string());
  // /bin/true needs libc, which this sysroot lacks.
  const std::string e =
      error_of([&] { resolve_binaries(root, {"usr/bin/true"}, "r.yaml", "4:7"); });
  CHECK(e.rfind("r.yaml:4:7: error: initrd.binaries: the interpreter /lib64/ld-linux-x86-64.so.2 "
                "of /usr/bin/true is not in the sysroot",
                0) == 0);
  // With the loader and libc (through a relative and an absolute link) it resolves.
  fs::create_directories(root / "lib/x86_64-linux-gnu");
  fs::create_directories(root / "lib64");
  fs::copy_file(fs::canonical("/lib64/ld-linux-x86-64.so.2"),
                root / "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  fs::create_symlink("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                     root / "lib64/ld-linux-x86-64.so.2");
  fs::copy_file(fs::canonical("/lib/x86_64-linux-gnu/libc.so.6"),
                root / "lib/x86_64-linux-gnu/libc.so.6.real");
  fs::create_symlink("libc.so.6.real", root / "lib/x86_64-linux-gnu/libc.so.6");
  const auto files = resolve_binaries(root, {"usr/bin/true"}, "r.yaml", "4:7");
  std::vector<std::string> paths;
  for (const auto& f : files) {
    paths.push_back(f.image_path);
    CHECK(f.host_path.string().rfind(root.string(), 0) == 0);
  }
  CHECK(paths == std::vector<std::string>{"usr/bin/true", "lib64/ld-linux-x86-64.so.2",
                                          "lib/x86_64-linux-gnu/libc.so.6",
                                          "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"});
}

TEST_CASE("kernel modules resolve as modprobe --show-depends does", "[initrd][modules]") {
  const fs::path mods = test::source_dir() / ".cache/debian/modules";
  if (!fs::exists(mods / "modules.dep") || !test::have_tool("modprobe")) {
    test::skip_or_fail("run scripts/fetch-debian-inputs first (needs apt-get download)");
    return;
  }
  const fs::path real = fs::canonical(mods);
  const std::string kver = real.filename().string();
  const fs::path base = real.parent_path().parent_path().parent_path();
  for (const char* name : {"dm-verity", "erofs", "virtio_blk", "nf_tables", "btrfs"}) {
    INFO(name);
    auto r = test::run({"modprobe", "-d", base.string(), "-S", kver, "--show-depends", name});
    std::set<std::string> theirs;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
      std::istringstream l(line);
      std::string w, path;
      if (l >> w >> path && w == "insmod")
        theirs.insert(fs::path(path).lexically_relative(real).string());
    }
    std::set<std::string> mine;
    const ResolvedModules m = resolve_modules(mods, "modules", {name}, "r.yaml", "9:3");
    for (const auto& f : m.files)
      mine.insert(f.image_path.substr(("lib/modules/" + kver + "/").size()));
    CHECK(mine == theirs);
    CHECK(m.kernel_version == kver);
  }
  CHECK(error_of([&] { resolve_modules(mods, "modules", {"no-such-mod"}, "r.yaml", "9:3"); }) ==
        "r.yaml:9:3: error: initrd.modules: no module 'no-such-mod' in modules/modules.dep or "
        "modules.builtin");
}

TEST_CASE("malformed ELF files are rejected with offsets", "[initrd][elf]") {
  std::vector<std::uint8_t> b(64, 0);
  b[0] = 0x7f;
  b[1] = 'E';
  b[2] = 'L';
  b[3] = 'F';
  b[4] = 2;
  b[5] = 1;
  b[32] = 0xf0;  // e_phoff far away
  b[54] = 56;
  b[56] = 1;
  CHECK(error_of([&] { parse_elf_deps(b, "x.so"); }) ==
        "x.so:0x20: error: e_phoff 0xf0 is beyond the end of the file");
  b[4] = 3;
  CHECK(error_of([&] { parse_elf_deps(b, "x.so"); }) == "x.so:0x4: error: unknown ELF class 3");
  const auto real = read_file("/bin/true");
  for (std::size_t n = 0; n < real.size(); n += 97) {
    std::vector<std::uint8_t> t(real.begin(), real.begin() + static_cast<std::ptrdiff_t>(n));
    try {
      parse_elf_deps(t, "t");
    } catch (const InputError&) {
    }
  }
}
