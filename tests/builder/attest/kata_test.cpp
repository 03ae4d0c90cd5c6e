// `exports.kata` (builder/attest/kata.*): Kata QEMU drop-ins of a real build,
// read back by tests/builder/attest/kata_ref.py, an independent Python model
// of Kata's Go runtime (tomllib; ParseKernelVerityParams, GetKernelRootParams
// and the cmdline assembly transcribed from kata-containers 7c6ba40c). The
// guest cmdline it derives from a drop-in's values must be the cmdline the
// build measured, every key must be one of the platform's template keys
// (tests/vectors/kata/config-keys.txt), and the verity root hash must be the
// manifest's. Shapes Kata cannot launch are refused at exports.kata.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "builder/attest/kata.h"
#include "tests/snp_fixtures.h"
#include "tests/tdx_fixture.h"
#include "tests/test_util.h"

namespace mkguest::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kRef = source_dir() / "tests/builder/attest/kata_ref.py";
const fs::path kKeys = source_dir() / "tests/vectors/kata/config-keys.txt";

// What the runtime puts before kernel_params for an image with verity on
// virtio-blk: the recipe writes it out (with mkguest's own dm-mod.create
// rendering), so the build fails unless both renderings agree.
std::string kata_prefix(const std::string& rootfs_type) {
  const std::string flags = rootfs_type == "ext4" ? "data=ordered,errors=remount-ro ro" : "ro";
  return "tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 i8042.dumbkbd=1 "
         "i8042.nopnp=1 i8042.noaux=1 noreplace-smp reboot=k cryptomgr.notests net.ifnames=0 "
         "pci=lastbus=0 ${verity.dm_mod_create} rootflags=" +
         flags + " rootfstype=" + rootfs_type +
         " console=hvc0 console=hvc1 quiet systemd.show_status=false panic=1 selinux=0 "
         "systemd.unit=kata-containers.target systemd.mask=systemd-networkd.service "
         "systemd.mask=systemd-networkd.socket scsi_mod.scan=none "
         "agent.launch_process_timeout=6";
}

void write_recipe(const TempDir& t, const std::string& cmdline, const std::string& extra,
                  const std::string& kata) {
  write_snp_fixtures(t.path());
  write_text(t / "rootfs.img", std::string(600 * 4096, '\x5a'));
  write_text(t / "recipe.yaml",
             "name: kata-demo\nversion: \"1\"\nsource_date_epoch: 1700000000\n"
             "kernel: kernel.bin\ncmdline: \"" +
                 cmdline + "\"\n" + extra +
                 "rootfs:\n  format: raw\n  source: rootfs.img\n"
                 "  verity: {layout: partitioned}\n"
                 "measurements:\n  snp:\n    firmware: synth_ovmf_4m.fd\n"
                 "    vcpus: [1, 4]\n    vcpu_types: [EPYC-v4, EPYC-Milan]\n"
                 "exports:\n  kata:\n" +
                 kata);
}

const std::string kKata =
    "    install_dir: /opt/mkguest/kata-demo/\n"
    "    firmware: {snp: /usr/share/ovmf/AMDSEV.fd, coco-dev: /usr/share/ovmf/OVMF.fd}\n";

json model(const std::vector<fs::path>& files) {
  std::vector<std::string> argv = {"/usr/bin/python3", kRef.string(), kKeys.string()};
  for (const auto& f : files) argv.push_back(f.string());
  auto r = run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("kata drop-ins: Kata's runtime model gives back the measured cmdline and root hash",
          "[kata]") {
  for (const std::string rootfs_type : {"erofs", "ext4"}) {
    INFO(rootfs_type);
    TempDir t;
    write_recipe(t, kata_prefix(rootfs_type) + " mkguest.demo=1", "",
                 kKata + "    rootfs_type: " + rootfs_type + "\n");
    auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
    INFO(b.err);
    REQUIRE(b.exit_code == 0);
    const json m = json::parse(read_text(t / "out/manifest.json"));
    const std::string measured = read_text(t / "out/cmdline");
    // One drop-in per measured EPYC-v4 vCPU count (EPYC-Milan is not what Kata runs).
    const fs::path snp1 = t / "out/kata/configuration-qemu-snp-1vcpus.toml";
    const fs::path snp4 = t / "out/kata/configuration-qemu-snp-4vcpus.toml";
    const fs::path dev = t / "out/kata/configuration-qemu-coco-dev.toml";
    REQUIRE(fs::exists(snp1));
    REQUIRE(fs::exists(snp4));
    REQUIRE(fs::exists(dev));
    CHECK(!fs::exists(t / "out/kata/configuration-qemu-snp.toml"));
    const json k = model({snp1, snp4, dev});
    for (const char* f :
         {"configuration-qemu-snp-1vcpus.toml", "configuration-qemu-snp-4vcpus.toml"}) {
      INFO(f);
      CHECK(k[f]["cmdline"] == measured);
      CHECK(k[f]["root_hash"] == m["verity"]["root_hash"]);
      CHECK(k[f]["kernel"] == "/opt/mkguest/kata-demo/kernel");
      CHECK(k[f]["image"] == "/opt/mkguest/kata-demo/rootfs.disk");
      CHECK(k[f]["firmware"] == "/usr/share/ovmf/AMDSEV.fd");
      CHECK(k[f]["memory"] == 2048);
    }
    CHECK(k["configuration-qemu-snp-1vcpus.toml"]["vcpus"] == 1);
    CHECK(k["configuration-qemu-snp-4vcpus.toml"]["vcpus"] == 4);
    // coco-dev: not confidential, so nr_cpus= and the coco-dev CDH timeout join in.
    const std::string dev_cmdline = k["configuration-qemu-coco-dev.toml"]["cmdline"];
    CHECK(dev_cmdline != measured);
    CHECK(dev_cmdline.find(" panic=1 nr_cpus=1 selinux=0 ") != std::string::npos);
    CHECK(dev_cmdline.find(" agent.cdh_api_timeout=50 ") != std::string::npos);
    // The drop-in states the cmdline and that it is the measured one.
    const std::string text = read_text(snp1);
    CHECK(text.find("#   " + measured + "\n# This is the measured cmdline.") != std::string::npos);
    CHECK(text.find("snp_guest_policy = 196608\n") != std::string::npos);
    // Deterministic: a rebuild writes the same bytes.
    auto b2 = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out2"}, {}, t.path());
    REQUIRE(b2.exit_code == 0);
    CHECK(read_text(t / "out2/kata/configuration-qemu-snp-1vcpus.toml") == text);
    auto v = run_mkguest({"verify", "out", "--rebuild", "recipe.yaml"}, {}, t.path());
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
    // ${kata.runtime_params} is the same list as the one written out above.
    std::string r = read_text(t / "recipe.yaml");
    const std::string written = kata_prefix(rootfs_type);
    r.replace(r.find(written), written.size(), "${kata.runtime_params}");
    write_text(t / "recipe.yaml", r);
    auto b3 = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out3"}, {}, t.path());
    INFO(b3.err);
    REQUIRE(b3.exit_code == 0);
    CHECK(read_text(t / "out3/cmdline") == measured);
  }
}

TEST_CASE("mkguest export kata writes the build's drop-ins from its manifest", "[kata]") {
  TempDir t;
  write_recipe(t, kata_prefix("erofs") + " mkguest.demo=1", "", kKata);
  auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  auto e = run_mkguest({"export", "kata", "out", "-o", "dropins", "--install-dir",
                        "/opt/mkguest/kata-demo", "--firmware", "snp=/usr/share/ovmf/AMDSEV.fd",
                        "--firmware=coco-dev=/usr/share/ovmf/OVMF.fd"},
                       {}, t.path());
  INFO(e.err);
  REQUIRE(e.exit_code == 0);
  int n = 0;
  for (const auto& f : fs::directory_iterator(t / "out/kata")) {
    INFO(f.path().filename());
    ++n;
    CHECK(read_text(t / "dropins" / f.path().filename()) == read_text(f.path()));
  }
  CHECK(n == 3);
  // A bad --firmware is a usage error; a shape Kata cannot launch (no SNP
  // firmware) is refused with the library's reason; nothing is written.
  e = run_mkguest(
      {"export", "kata", "out", "-o", "d2", "--install-dir", "/x", "--firmware", "sev=/f"}, {},
      t.path());
  CHECK(e.exit_code == 1);
  CHECK(e.err.find("--firmware takes PLATFORM=/ABSOLUTE/PATH") != std::string::npos);
  e = run_mkguest({"export", "kata", "out", "-o", "d2", "--install-dir", "/x"}, {}, t.path());
  CHECK(e.exit_code == 1);
  CHECK(e.err.find("needs the host path of the snp firmware") != std::string::npos);
  CHECK(!fs::exists(t / "d2"));
}

TEST_CASE("kata drop-ins: an initrd boot, and a cmdline no measurement binds", "[kata]") {
  TempDir t;
  write_snp_fixtures(t.path());
  const std::string runtime =
      "tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 i8042.dumbkbd=1 "
      "i8042.nopnp=1 i8042.noaux=1 noreplace-smp reboot=k cryptomgr.notests net.ifnames=0 "
      "pci=lastbus=0 console=hvc0 console=hvc1 quiet panic=1 selinux=1 "
      "agent.launch_process_timeout=6";
  write_text(t / "recipe.yaml",
             "name: kata-initrd\nversion: \"1\"\nsource_date_epoch: 1700000000\n"
             "kernel: kernel.bin\ncmdline: \"" +
                 runtime +
                 " rdinit=/init\"\n"
                 "initrd:\n  files: [{src: initrd.bin, dst: /init}]\n"
                 "measurements:\n  snp: {firmware: synth_ovmf_4m.fd, vcpus: [2], "
                 "vcpu_types: [EPYC-v4]}\n"
                 "exports:\n  kata:\n    install_dir: /srv/guest\n"
                 "    firmware: {snp: /fw/snp.fd}\n    guest_selinux: true\n"
                 "    block_device_driver: virtio-blk\n    memory_mib: 4096\n");
  auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  const fs::path snp = t / "out/kata/configuration-qemu-snp.toml";
  const fs::path dev = t / "out/kata/configuration-qemu-coco-dev.toml";
  const json k = model({snp, dev});
  const json& s = k["configuration-qemu-snp.toml"];
  CHECK(s["cmdline"] == read_text(t / "out/cmdline"));
  CHECK(s["image"] == "");
  CHECK(s["initrd"] == "/srv/guest/initrd");
  CHECK(s["root_hash"] == "");
  CHECK(s["vcpus"] == 2);
  CHECK(s["memory"] == 4096);
  CHECK(read_text(snp).find("kernel_params = \"rdinit=/init\"\n") != std::string::npos);

  // Without kernel hashes (coco-dev only) no measurement binds the cmdline:
  // kernel_params is the whole recipe cmdline, and the drop-in says so.
  write_text(t / "recipe.yaml",
             "name: kata-initrd\nsource_date_epoch: 1\nkernel: kernel.bin\n"
             "cmdline: console=ttyS0\n"
             "initrd:\n  files: [{src: initrd.bin, dst: /init}]\n"
             "exports:\n  kata: {install_dir: /srv/guest, vcpus: 2}\n");
  b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out3"}, {}, t.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  CHECK(!fs::exists(t / "out3/kata/configuration-qemu-snp.toml"));
  const std::string text = read_text(t / "out3/kata/configuration-qemu-coco-dev.toml");
  CHECK(text.find("kernel_params = \"console=ttyS0\"\n") != std::string::npos);
  CHECK(text.find("# The measurements do not bind this cmdline.") != std::string::npos);
  const json k3 = model({t / "out3/kata/configuration-qemu-coco-dev.toml"});
  CHECK(k3["configuration-qemu-coco-dev.toml"]["cmdline"].get<std::string>().find(
            " panic=1 nr_cpus=2 selinux=0 ") != std::string::npos);
}

TEST_CASE("kata drop-ins: shapes Kata cannot launch are refused at exports.kata", "[kata]") {
  struct Case {
    std::string cmdline, extra, kata, message;
  };
  const std::vector<Case> cases = {
      {"console=ttyS0 ${verity.dm_mod_create}", "", kKata,
       "the measured cmdline must begin with them: \"tsc=reliable"},
      {kata_prefix("erofs") + " x", "initrd:\n  files: [{src: kernel.bin, dst: /init}]\n", kKata,
       "an image or an initrd, not both"},
      {kata_prefix("erofs") + " x", "", "    install_dir: /opt/x\n",
       "needs the host path of the snp firmware"},
      {kata_prefix("erofs") + " foo=", "", kKata, "'foo=': Kata writes it back without its '='"},
  };
  for (const auto& c : cases) {
    INFO(c.message);
    TempDir t;
    write_recipe(t, c.cmdline, c.extra, c.kata);
    auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
    CHECK(b.exit_code == 2);
    CHECK(b.err.rfind("recipe.yaml:", 0) == 0);
    CHECK(b.err.find(":5: error: exports.kata: ") != std::string::npos);
    CHECK(b.err.find(c.message) != std::string::npos);
    CHECK(!fs::exists(t / "out"));
  }
  // EPYC-v4 is the CPU model Kata gives SNP guests.
  TempDir t;
  write_recipe(t, kata_prefix("erofs") + " x", "", kKata);
  std::string r = read_text(t / "recipe.yaml");
  r.replace(r.find("EPYC-v4, "), 9, "");
  write_text(t / "recipe.yaml", r);
  auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
  CHECK(b.exit_code == 2);
  CHECK(b.err.find("add EPYC-v4 to measurements.snp.vcpu_types") != std::string::npos);
}

TEST_CASE("kata drop-ins: TDX memory, the SE image, from a manifest", "[kata]") {
  json m = {{"manifest_version", 1},
            {"recipe", {{"name", "g"}, {"version", "1"}}},
            {"cmdline", "rdinit=/init"},
            {"outputs", json::array({{{"role", "kernel"}, {"file", "kernel"}},
                                     {{"role", "initrd"}, {"file", "initrd"}}})},
            {"measurements",
             {{"tdx",
               {{"boot", "qemu-kernel"},
                {"ram_mib", 4096},
                {"covers", {{"cmdline", true}}},
                {"mr_td", {{"single-pass", "ab"}}}}}}}};
  attest::KataOptions o;
  o.install_dir = "/g";
  o.firmware["tdx"] = "/fw/tdx.fd";
  // TDX binds this cmdline (RTMR 2), which does not begin with the runtime's part.
  CHECK_THROWS_WITH(attest::kata_drop_ins(m, o),
                    Catch::Contains("the measured cmdline must begin with them"));
  m["measurements"]["tdx"]["covers"]["cmdline"] = false;
  auto d = attest::kata_drop_ins(m, o);
  REQUIRE(d.size() == 2);
  CHECK(d[0].file == "kata/configuration-qemu-tdx.toml");
  CHECK(d[0].memory_mib == 4096);  // RTMR 0 was predicted for 4096 MiB
  CHECK(d[1].file == "kata/configuration-qemu-coco-dev.toml");
  TempDir t;
  fs::create_directories(t / "kata");
  for (const auto& x : d) write_text(t / x.file, x.text);
  json k = model({t / d[0].file, t / d[1].file});
  CHECK(k["configuration-qemu-tdx.toml"]["memory"] == 4096);
  CHECK(k["configuration-qemu-tdx.toml"]["firmware"] == "/fw/tdx.fd");
  CHECK(k["configuration-qemu-tdx.toml"]["cmdline"] == d[0].cmdline);
  o.memory_mib = 2048;
  CHECK_THROWS_WITH(attest::kata_drop_ins(m, o),
                    Catch::Contains("is not the memory TDX was measured with (4096 MiB)"));
  o.memory_mib.reset();
  m["measurements"]["tdx"]["boot"] = "uki-qemu-kernel";
  CHECK_THROWS_WITH(attest::kata_drop_ins(m, o),
                    Catch::Contains("TDX was measured booting the UKI"));

  // IBM SE: the image is the kernel; its cmdline is inside it.
  json se = {{"manifest_version", 1},
             {"recipe", {{"name", "s"}, {"version", "1"}}},
             {"cmdline", "console=ttysclp0"},
             {"outputs", json::array({{{"role", "se"}, {"file", "se.img"}}})},
             {"measurements", {{"se", {{"tag", "00"}}}}}};
  d = attest::kata_drop_ins(se, o);
  REQUIRE(d.size() == 1);
  CHECK(d[0].file == "kata/configuration-qemu-se.toml");
  CHECK(d[0].cmdline.empty());
  CHECK(d[0].text.find("\nkernel_params =") == std::string::npos);
  write_text(t / d[0].file, d[0].text);
  k = model({t / d[0].file});
  CHECK(k["configuration-qemu-se.toml"]["kernel"] == "/g/se.img");
  // The model refuses what Kata would not read: a key of another template,
  // a value of the wrong type.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"default_maxvcpus", "sev_snp_guest = true\ndefault_maxvcpus"},
      {"default_vcpus = 1", "default_vcpus = \"1\""}};
  for (const auto& [from, to] : bad) {
    INFO(to);
    std::string text = d[0].text;
    REQUIRE(text.find(from) != std::string::npos);
    text.replace(text.find(from), from.size(), to);
    write_text(t / d[0].file, text);
    auto r = run({"/usr/bin/python3", kRef.string(), kKeys.string(), (t / d[0].file).string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind("kata_ref: configuration-qemu-se.toml: [hypervisor.qemu] ", 0) == 0);
  }
}

TEST_CASE("kata drop-ins: a TDX build binds memory and the cmdline Kata passes", "[kata][tdx]") {
  TempDir t;
  std::string why;
  const fs::path ovmf = tdx::debian_ovmf(&why);
  const fs::path kernel = ovmf.empty() ? fs::path() : tdx::debian_kernel(&why);
  if (ovmf.empty() || kernel.empty()) {
    skip_or_fail(why);
    return;
  }
  fs::copy_file(ovmf, t / "OVMF.fd");
  fs::copy_file(kernel, t / "vmlinuz");
  write_text(t / "init", "#!/bin/sh\n");
  const std::string recipe = R"(name: kata-tdx
source_date_epoch: 1700000000
kernel: vmlinuz
cmdline: "${kata.runtime_params} rdinit=/init"
initrd:
  files: [{src: init, dst: /init}]
measurements:
  tdx: {firmware: OVMF.fd, profile: edk2-202408-qemu8, ram_mib: 4096}
exports:
  kata:
    install_dir: /opt/kata-tdx
    firmware: {tdx: /opt/kata-tdx/OVMF.fd}
)";
  write_text(t / "recipe.yaml", recipe);
  auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  const json m = json::parse(read_text(t / "out/manifest.json"));
  REQUIRE(m["measurements"]["tdx"]["covers"]["cmdline"] == true);  // RTMR 2 binds it
  const json k = model({t / "out/kata/configuration-qemu-tdx.toml"});
  const json& x = k["configuration-qemu-tdx.toml"];
  CHECK(x["cmdline"] == read_text(t / "out/cmdline"));
  CHECK(x["memory"] == 4096);
  CHECK(x["initrd"] == "/opt/kata-tdx/initrd");
  CHECK(x["firmware"] == "/opt/kata-tdx/OVMF.fd");
  // Another memory size than the measured one is refused.
  write_text(t / "recipe.yaml", recipe + "    memory_mib: 2048\n");
  b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out2"}, {}, t.path());
  CHECK(b.exit_code == 2);
  CHECK(b.err.find("is not the memory TDX was measured with (4096 MiB)") != std::string::npos);
}

TEST_CASE("kata: kernel_verity_params are parsed as the Go runtime parses them", "[kata]") {
  using attest::parse_kata_verity_params;
  CHECK(!parse_kata_verity_params("  "));
  auto v = parse_kata_verity_params(
      " root_hash=ab,salt=-, ,data_blocks=08,data_block_size=4096,hash_block_size=512");
  REQUIRE(v);
  CHECK(v->root_hash == "ab");
  CHECK(v->salt == "-");
  CHECK(v->data_blocks == 8);
  for (const char* bad :
       {"root_hash=ab,salt=-,data_blocks=8,data_block_size=4096",
        "root_hash=ab,data_blocks=8,data_block_size=4096,hash_block_size=512",
        "root_hash=ab,salt=-,data_blocks=0,data_block_size=4096,hash_block_size=512",
        "root_hash=ab,salt=-,data_blocks=8,data_block_size=4000,hash_block_size=512",
        "root_hash=ab,salt=-,data_blocks=+8,data_block_size=4096,hash_block_size=512",
        "salt=-,data_blocks=8,data_block_size=4096,hash_block_size=512", "root_hash=ab,salt"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_kata_verity_params(bad), ValueError);
  }
  // Without verity: the plain root of hypervisor.go GetKernelRootParams.
  CHECK(attest::kata_root_params("", "") ==
        std::vector<std::string>{"root=/dev/vda1", "rootflags=data=ordered,errors=remount-ro ro",
                                 "rootfstype=ext4"});
  CHECK_THROWS_AS(attest::kata_root_params("btrfs", ""), ValueError);
  CHECK_NOTHROW(attest::check_kata_kernel_params("a=b b c=\"x y=\" d=e="));
  for (const char* bad : {"", "a  b", " a", "a\tb", "=x", "a=", "a=\"b"}) {
    INFO(bad);
    CHECK_THROWS_AS(attest::check_kata_kernel_params(bad), ValueError);
  }
}

TEST_CASE("kata drop-ins: the SNP ID block and ID auth of each drop-in's launch digest",
          "[kata][idblock]") {
  TempDir t;
  write_recipe(t, "${kata.runtime_params} mkguest.demo=1", "", kKata);
  const fs::path vectors = source_dir() / "tests/vectors/snp_id_block";
  fs::copy_file(vectors / "id.pem", t / "id.pem");
  fs::copy_file(vectors / "author.pem", t / "author.pem");
  std::string r = read_text(t / "recipe.yaml");
  const std::string types = "    vcpu_types: [EPYC-v4, EPYC-Milan]\n";
  r.replace(r.find(types), types.size(),
            types + "    id_block: {id_key: id.pem, author_key: author.pem}\n");
  write_text(t / "recipe.yaml", r);
  auto b = run_mkguest({"build", "-q", "recipe.yaml", "-o", "out"}, {}, t.path());
  INFO(b.err);
  REQUIRE(b.exit_code == 0);
  const json m = json::parse(read_text(t / "out/manifest.json"));
  for (const auto& e : m["measurements"]["snp"]["launch_digests"]) {
    if (e["vcpu_type"] != "EPYC-v4") continue;
    const auto n = std::to_string(e["vcpus"].get<int>());
    INFO(n);
    const fs::path f = t / ("out/kata/configuration-qemu-snp-" + n + "vcpus.toml");
    const std::string text = read_text(f);
    CHECK(text.find("snp_id_block = \"" + e["id_block"].get<std::string>() + "\"\n") !=
          std::string::npos);
    CHECK(text.find("snp_id_auth = \"" + e["id_auth"].get<std::string>() + "\"\n") !=
          std::string::npos);
    // Keys of Kata's SNP template, with the Go field types (string).
    const json k = model({f});
    CHECK(k.is_object());
  }
  // Without an ID block, the drop-in names none.
  CHECK(read_text(t / "out/kata/configuration-qemu-coco-dev.toml").find("snp_id") ==
        std::string::npos);
}

}  // namespace mkguest::test
