// IBM SE images: byte-identical to genprotimg 2.35 for the same loaders, keys,
// IV, ephemeral key and tweaks (tests/vectors/se/README.md); a round trip
// through the reader with each host private key gives back the inputs; PLD,
// ALD, TLD and NEP equal a recomputation from the image and a hand-computed
// layout; the checks genprotimg/pvimg make are errors with their place.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "base/byte_reader.h"
#include "base/byte_writer.h"
#include "base/file.h"
#include "builder/formats/se/image.h"
#include "builder/formats/se/reader.h"
#include "tests/se_fixture.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

fs::path vec(const std::string& n) { return test::se_vector(n); }

Bytes pattern(std::size_t n, unsigned mul, unsigned add) { return test::se_pattern(n, mul, add); }

void write_inputs(const fs::path& d) { test::write_se_inputs(d); }

std::vector<std::string> base_args(const fs::path& d, const std::string& kernel = "kernel") {
  return {"se",         "build",
          "-i",         (d / kernel).string(),
          "--stage3a",  (d / "stage3a.bin").string(),
          "--stage3b",  (d / "stage3b_reloc.bin").string(),
          "--no-verify"};
}

}  // namespace

TEST_CASE("SE images are byte-identical to genprotimg 2.35's", "[se]") {
  test::TempDir d;
  write_inputs(d.path());
  struct Run {
    const char* name;
    std::vector<std::string> extra;
    const char* tweaks;
    const char* image_sha256;
    const char* hdr_sha256;
  };
  const std::string t4 = "784b3d26cf50,442b270360e5,ce0089374ac8,3aa6058baa74";
  const std::vector<Run> runs = {
      {"a",
       {"-r", "initrd", "-k", "host2"},
       "",
       "0af19f2ae8af085064ef527fac1c841c7a359058b39092f4d4fbb312cead9e5c",
       "21734aef603e91a44917cb8ae6b457c252fa0a844fa26bcecc3b061f9e9473d1"},
      {"b",
       {},
       "784b3d26cf50,442b270360e5,ce0089374ac8",
       "680d9a9b6716581c59e74d7ef7c0af9574c3e0d28eea31b39c3841b829936dc4",
       "3b2d860a4a57c73772f84a4d7a614e5871d7b16545f35fdc8d4a4cdb85a2ce8f"},
      {"c",
       {"-r", "initrd", "-k", "host2", "--x-pcf", "0x100000e0"},
       "",
       "a01796f61272789455671e4849dcf19443e4b9caf8dd9bc41d8df7595f2bc206",
       "81ae78a7e4d68777cb42b1589487372160b48186f3deb265cf8a2d0058f6cdb4"},
      {"d",
       {"-r", "initrd", "-k", "host2", "--enable-dump", "--x-scf", "0x4000000000000000"},
       "",
       "f3aa2361525cb927918d04a95cd928da0f5e1d886a98f73525352e312c9f2398",
       "7b4dbc584da0cc46f50a71420ac9de103a2e55048f44eaf6f7e96f3894306986"},
  };
  for (const auto& r : runs) {
    INFO("run " << r.name);
    auto args = base_args(d.path());
    for (const auto& [opt, file] :
         std::vector<std::pair<std::string, std::string>>{{"-p", "parmfile"},
                                                          {"--comm-key", "cck"},
                                                          {"--x-comp-key", "ik"},
                                                          {"--x-header-key", "hk"},
                                                          {"--x-test-iv", "iv"}}) {
      args.push_back(opt);
      args.push_back((d / file).string());
    }
    args.insert(args.end(),
                {"-k", vec("host.crt").string(), "--x-test-ephemeral-key", vec("eph.pem").string(),
                 "--x-test-tweaks", *r.tweaks ? r.tweaks : t4, "-o", (d / "out.img").string(),
                 "--hdr-out", (d / "out.hdr").string(), "--json"});
    for (std::size_t i = 0; i < r.extra.size(); ++i) {
      if (r.extra[i] == "host2") {
        args.push_back(vec("host2.crt").string());
      } else if (r.extra[i] == "initrd") {
        args.push_back((d / "initrd").string());
      } else {
        args.push_back(r.extra[i]);
      }
    }
    auto res = test::run_mkguest(args);
    INFO(res.err);
    REQUIRE(res.exit_code == 0);
    CHECK(res.err.find("UNSAFE FOR PRODUCTION") != std::string::npos);
    CHECK(res.err.find("verification is disabled") != std::string::npos);
    CHECK(test::sha256_file(d / "out.img") == r.image_sha256);
    CHECK(test::sha256_file(d / "out.hdr") == r.hdr_sha256);
    const auto j = nlohmann::json::parse(res.out);
    CHECK(j["hdr_sha256"] == r.hdr_sha256);
  }
}

TEST_CASE("an SE image decrypts with each host key into its inputs", "[se]") {
  test::TempDir d;
  write_inputs(d.path());
  auto args = base_args(d.path());
  args.insert(args.end(),
              {"-r", (d / "initrd").string(), "-p", (d / "parmfile").string(), "-k",
               vec("host.crt").string(), "-k", vec("host2.crt").string(), "-o",
               (d / "se.img").string(), "--hdr-out", (d / "hdr.bin").string(), "--json"});
  auto res = test::run_mkguest(args);  // system randomness: nothing fixed
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  const auto j = nlohmann::json::parse(res.out);
  const Bytes image = read_file(d / "se.img");
  const se::Image img = se::parse_image(image, "se.img");
  const se::Header& h = img.header;
  CHECK(h.offset == 0x14000);
  CHECK(h.phs == 720);
  CHECK(h.nks == 2);
  CHECK(h.pcf == 0xe0);
  // Recomputed from the image = the header = the JSON.
  CHECK(img.pld == h.pld);
  CHECK(img.ald == h.ald);
  CHECK(img.tld == h.tld);
  CHECK(img.nep == h.nep);
  CHECK(to_hex(h.pld) == j["pld"]);
  CHECK(to_hex(h.tag) == j["tag"]);
  CHECK(Bytes(h.raw.begin(), h.raw.end()) == read_file(d / "hdr.bin"));
  // NEP and ALD by hand: kernel 256 pages at 0x15000, parmline 1, initrd 3, stage3b 2.
  CHECK(h.nep == 262);
  ByteWriter addrs;
  for (std::uint64_t p = 0; p < 262; ++p) addrs.be64(0x15000 + p * 0x1000);
  CHECK(h.ald == digest(HashAlg::kSha512, addrs.bytes()));
  REQUIRE(img.components.size() == 4);
  const std::uint64_t addr[4] = {0x15000, 0x115000, 0x116000, 0x119000};
  for (int i = 0; i < 4; ++i) {
    CHECK(img.components[i].addr == addr[i]);
    CHECK(img.components[i].tweak_prefix >> 48 == static_cast<std::uint64_t>(i));
  }
  for (const char* key : {"host.key", "host2.key"}) {
    INFO(key);
    const ossl::Pkey k = se::load_p521_private_pem(read_file(vec(key)), key);
    const Bytes hk = se::unwrap_header_key(h, k.get(), "se.img");
    const se::Secret s = se::open_header(h, hk, "se.img");
    CHECK(s.psw_mask == 0x180000000ull);
    CHECK(s.psw_addr == 0x119000);
    CHECK(s.scf == 0);
    const Bytes kernel = se::decrypt_component(img, image, s, 0);
    CHECK(Bytes(kernel.begin(), kernel.begin() + 1048576) == read_file(d / "kernel"));
    const Bytes parm = se::decrypt_component(img, image, s, 1);
    const std::string text = "console=ttysclp0 root=/dev/vda1";
    CHECK(std::string(parm.begin(), parm.begin() + 32) == text + '\0');
    CHECK(std::all_of(parm.begin() + 32, parm.end(), [](auto b) { return b == 0; }));
    const Bytes initrd = se::decrypt_component(img, image, s, 2);
    CHECK(Bytes(initrd.begin(), initrd.begin() + 10000) == Bytes(10000, 'I'));
    const Bytes s3b = se::decrypt_component(img, image, s, 3);
    const auto args3b = se::find_stage3b_args(img, s3b);
    REQUIRE(args3b);
    CHECK(args3b->offset == 5860 - 64);
    CHECK(args3b->addr == std::array<std::uint64_t, 3>{0x15000, 0x115000, 0x116000});
    CHECK(args3b->size == std::array<std::uint64_t, 3>{1048576, 32, 10000});
    CHECK(args3b->psw_addr == 0x10000);
    const Bytes loader = read_file(d / "stage3b_reloc.bin");
    CHECK(Bytes(s3b.begin(), s3b.begin() + 5860 - 64) == Bytes(loader.begin(), loader.end() - 64));
  }
  // A wrong key has no slot; a flipped header byte breaks the tag.
  const ossl::Pkey eph = se::load_p521_private_pem(read_file(vec("eph.pem")), "eph.pem");
  CHECK_THROWS_WITH(se::unwrap_header_key(h, eph.get(), "se.img"),
                    Catch::Contains("no key slot for this host key"));
  Bytes bad = image;
  bad[0x14000 + 0x38 + 7] ^= 0x10;  // the PCF
  const se::Image bi = se::parse_image(bad, "bad.img");
  const ossl::Pkey k = se::load_p521_private_pem(read_file(vec("host.key")), "host.key");
  CHECK_THROWS_WITH(
      se::open_header(bi.header, se::unwrap_header_key(bi.header, k.get(), "bad.img"), "bad.img"),
      Catch::Contains("bad.img:0x142c0: error: the SE header's GCM tag does not verify"));
}

TEST_CASE("SE: a test seed reproduces the image, the default randomness does not", "[se]") {
  test::TempDir d;
  write_inputs(d.path());
  auto build = [&](const std::string& out, const std::string& seed) {
    auto args = base_args(d.path());
    args.insert(args.end(), {"-k", vec("host.crt").string(), "-o", (d / out).string()});
    if (!seed.empty()) args.insert(args.end(), {"--x-test-seed", seed});
    auto r = test::run_mkguest(args);
    REQUIRE(r.exit_code == 0);
    return test::sha256_file(d / out);
  };
  CHECK(build("s1", "seed") == build("s2", "seed"));
  CHECK(build("s3", "seed") != build("s4", "other"));
  CHECK(build("r1", "") != build("r2", ""));
}

TEST_CASE("SE: what the tools validate is an error with its place", "[se]") {
  test::TempDir d;
  write_inputs(d.path());
  auto run = [&](std::vector<std::string> extra, const std::string& kernel = "kernel") {
    auto args = base_args(d.path(), kernel);
    args.insert(args.end(), {"-k", vec("host.crt").string(), "-o", (d / "x.img").string()});
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_mkguest(args);
  };
  Bytes elf = read_file(d / "kernel");
  std::copy_n(
      "\x7f"
      "ELF",
      4, elf.begin());
  write_file(d / "vmlinux", elf);
  auto r = run({}, "vmlinux");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("vmlinux:0x0: error: the kernel is an ELF file"));
  Bytes noep = read_file(d / "kernel");
  noep[0x10008] = 'X';
  write_file(d / "noep", noep);
  r = run({}, "noep");
  CHECK_THAT(r.err, Catch::Contains("noep:0x10008: error: no 'S390EP' magic"));
  CHECK(run({"--no-component-check"}, "noep").exit_code == 0);
  // COMMAND_LINE_SIZE 896 (a 0 at 0x10430): a 896-byte parmfile + NUL does not fit.
  Bytes legacy = read_file(d / "kernel");
  std::fill_n(legacy.begin() + 0x10430, 8, 0);
  write_file(d / "legacy", legacy);
  write_file(d / "long", std::string(896, 'a'));
  r = run({"-p", (d / "long").string()}, "legacy");
  CHECK_THAT(r.err, Catch::Contains("long: error: the kernel command line is 897 bytes with its "
                                    "NUL; the kernel takes at most 896"));
  write_file(d / "short", std::string(895, 'a'));
  CHECK(run({"-p", (d / "short").string()}, "legacy").exit_code == 0);
  write_file(d / "hk31", Bytes(31, 1));
  r = run({"--x-header-key", (d / "hk31").string()});
  CHECK_THAT(r.err,
             Catch::Contains("hk31: error: the header key must be exactly 32 bytes, not 31"));
  r = run({"--enable-dump"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("--enable-dump needs --comm-key"));
  for (const auto& f : fs::directory_iterator(d.path()))
    CHECK(f.path().filename().string().find(".mkguest-") == std::string::npos);
  // 96 host keys do not fit a 2-page header.
  std::vector<ossl::Pkey> keys;
  se::ImageInputs in;
  const Bytes k = read_file(d / "kernel"), s3a = read_file(d / "stage3a.bin"),
              s3b = read_file(d / "stage3b_reloc.bin");
  in.kernel = k;
  in.stage3a = s3a;
  in.stage3b = s3b;
  auto rnd = se::seeded_random("many");
  for (int i = 0; i < 96; ++i) {
    keys.push_back(se::generate_p521(*rnd));
    in.host_keys.push_back(keys.back().get());
  }
  MemorySink sink;
  CHECK_THROWS_WITH(se::write_image(in, {}, {}, *rnd, sink),
                    Catch::Contains("at most 95 key slots"));
  in.host_keys.resize(95);
  const se::BuiltImage img = se::write_image(in, {}, {}, *rnd, sink);
  CHECK(img.header.size() == 560 + 80 * 95);
}

TEST_CASE("SE images in pvimg's layout: order, IPIB, metadata, and a round trip", "[se]") {
  test::TempDir d;
  write_inputs(d.path());
  write_file(d / "parm0", std::string("console=ttysclp0") + '\0');  // already NUL-terminated
  auto args = base_args(d.path());
  args.insert(args.end(), {"-r", (d / "initrd").string(), "-p", (d / "parm0").string(), "-k",
                           vec("host.crt").string(), "--layout", "pvimg", "-o",
                           (d / "pv.img").string(), "--json"});
  auto res = test::run_mkguest(args);
  INFO(res.err);
  REQUIRE(res.exit_code == 0);
  const auto j = nlohmann::json::parse(res.out);
  CHECK(j["layout"] == "pvimg");
  const Bytes image = read_file(d / "pv.img");
  const se::Image img = se::parse_image(image, "pv.img");
  CHECK(img.pvimg);
  // stage3a (9912 bytes) ends in page 0x12000: the header still goes to 0x14000.
  CHECK(img.header.offset == 0x14000);
  REQUIRE(img.components.size() == 4);
  // kernel 256 pages from 0x15000, initrd 3 pages, parmline 1 page, stage3b 2 pages.
  const std::uint64_t addr[4] = {0x15000, 0x115000, 0x118000, 0x119000};
  const std::uint64_t type[4] = {40, 50, 60, 70};
  for (int i = 0; i < 4; ++i) {
    CHECK(img.components[i].addr == addr[i]);
    CHECK(img.components[i].tweak_prefix >> 48 == type[i]);
  }
  // The IPIB follows stage3b, unpadded; the image ends with it.
  CHECK(img.ipib_offset == 0x11b000);
  CHECK(image.size() == 0x11b000 + 8 + 0x80 + 24 * 4);
  const ByteReader r(image, "pv.img");
  CHECK(r.cstring(0xc000, 8) == "SeImgLnx");
  CHECK(r.be64(0xc008) == 0x14000);
  CHECK(r.be32(0xc010) == 1);
  CHECK(r.be64(0xc014) == 0x11b000);
  CHECK(r.be64(0x11b000 + 8 + 0x70) == 0x14000);  // the header's address in the IPIB
  CHECK(r.u8(0x11b000 + 8 + 0x67) == 1);          // PV block version
  // stage3a's args, relative to themselves (at 0x10000 + 9912 - 24).
  const std::uint64_t args_at = 0x10000 + 9912 - 24;
  CHECK(r.be64(args_at) == 0x14000 - args_at);
  CHECK(r.be64(args_at + 8) == 640);
  CHECK(r.be64(args_at + 16) == 0x11b000 - args_at);
  CHECK(img.pld == img.header.pld);
  CHECK(img.ald == img.header.ald);
  CHECK(img.tld == img.header.tld);
  CHECK(img.header.nep == 262);
  ByteWriter addrs;
  for (std::uint64_t p = 0; p < 262; ++p) addrs.be64(0x15000 + p * 0x1000);
  CHECK(img.header.ald == digest(HashAlg::kSha512, addrs.bytes()));
  const ossl::Pkey k = se::load_p521_private_pem(read_file(vec("host.key")), "host.key");
  const se::Secret s =
      se::open_header(img.header, se::unwrap_header_key(img.header, k.get(), "pv"), "pv");
  CHECK(s.psw_addr == 0x119000);
  const Bytes parm = se::decrypt_component(img, image, s, 2);
  CHECK(std::string(parm.begin(), parm.begin() + 17) == std::string("console=ttysclp0") + '\0');
  CHECK(parm[17] == 0);
  const Bytes initrd = se::decrypt_component(img, image, s, 1);
  CHECK(Bytes(initrd.begin(), initrd.begin() + 10000) == Bytes(10000, 'I'));
  const auto a = se::find_stage3b_args(img, se::decrypt_component(img, image, s, 3));
  REQUIRE(a);
  CHECK(a->addr == std::array<std::uint64_t, 3>{0x15000, 0x118000, 0x115000});
  CHECK(a->size == std::array<std::uint64_t, 3>{1048576, 17, 10000});
  // inspect names the layout and finds everything consistent.
  auto insp = test::run_mkguest({"inspect", (d / "pv.img").string(), "--json"});
  REQUIRE(insp.exit_code == 0);
  CHECK(nlohmann::json::parse(insp.out)["layout"] == "pvimg");
}

TEST_CASE("SE: a stage3a that would put the header before 0x14000 is refused", "[se]") {
  // genprotimg's layout puts the header one page after stage3a: a 4 KiB
  // stage3a put it at 0x12000, where neither pvextract-hdr nor inspect looks.
  test::TempDir d;
  write_inputs(d.path());
  write_file(d / "stage3a.bin", pattern(4096, 7, 3));
  auto args = base_args(d.path());
  args.insert(args.end(), {"-k", vec("host.crt").string(), "-o", (d / "small.img").string()});
  auto r = test::run_mkguest(args);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("stage3a.bin: error: 4096 bytes would put the SE header at "
                                    "0x12000, before 0x14000"));
  CHECK_FALSE(fs::exists(d / "small.img"));
  // pvimg's layout keeps the header at 0x14000 at the earliest: what it
  // writes is read back.
  args.insert(args.end(), {"--layout", "pvimg"});
  r = test::run_mkguest(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const Bytes image = read_file(d / "small.img");
  CHECK(se::parse_image(image, "small.img").header.offset == 0x14000);
}
