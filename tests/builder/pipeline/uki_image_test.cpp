// build_uki_image, the one entry point of `uki build` and the UKI stage:
// unsigned, its bytes are the planner's and writer's for the same sections;
// with a PCR key, each profile carries .pcrsig and the public key is checked;
// with a Secure Boot key, the bytes are those of sign_pe over the unsigned
// image (which `sbverify`-checked signatures cover, pe_sign_test.cpp).
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "base/error.h"
#include "base/file.h"
#include "base/sink.h"
#include "builder/formats/pe/image.h"
#include "builder/formats/pe/sign.h"
#include "builder/pipeline/uki_image.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

fs::path stub252() {
  return test::source_dir() /
         ".cache/debian/root/systemd-boot-efi/usr/lib/systemd/boot/efi/linuxx64.efi.stub";
}

bool have_stub() {
  if (fs::exists(stub252())) return true;
  test::skip_or_fail("the Debian 252 stub is missing (scripts/fetch-debian-inputs)");
  return false;
}

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

UkiContents contents(const Bytes& kernel) {
  UkiContents c;
  c.linux_image = kernel;
  c.cmdline = bytes_of("console=ttyS0 root=/dev/vda\n");
  c.osrel = bytes_of("ID=test\n");
  c.uname = bytes_of("6.1.0-test");
  return c;
}

void make_key(const test::TempDir& d, const std::string& name, bool x509) {
  std::vector<std::string> argv =
      x509 ? std::vector<std::string>{"openssl",  "req",
                                      "-x509",    "-newkey",
                                      "rsa:2048", "-nodes",
                                      "-keyout",  (d / (name + ".key")).string(),
                                      "-out",     (d / (name + ".crt")).string(),
                                      "-days",    "3650",
                                      "-subj",    "/CN=" + name}
           : std::vector<std::string>{"openssl", "genpkey", "-algorithm",
                                      "RSA",     "-out",    (d / (name + ".key")).string()};
  auto r = test::run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  ::chmod((d / (name + ".key")).c_str(), 0600);
  if (!x509) {
    r = test::run({"openssl", "pkey", "-in", (d / (name + ".key")).string(), "-pubout", "-out",
                   (d / (name + ".pub")).string()});
    REQUIRE(r.exit_code == 0);
  }
}

keys::Signer signer(const test::TempDir& d, const std::string& name) {
  return keys::load_signer({(d / (name + ".key")).string(), name, {}, {}}, [](auto&) {});
}

}  // namespace

TEST_CASE("build_uki_image writes the planned UKI, and signs it as sign_pe does", "[uki]") {
  if (!have_stub()) return;
  MappedFile stub(stub252());
  const Bytes kernel(70000, 0x4b);

  const UkiContents c = contents(kernel);
  const UkiSections sections = ukify_sections(stub.bytes(), c);
  const UkiPlan plan = plan_uki(stub.bytes(), "stub", sections.list);
  MemorySink expected;
  write_uki(plan, expected);

  UkiImageRequest req;
  req.stub = stub.bytes();
  req.stub_name = "stub";
  req.output_name = "uki.efi";
  req.contents = contents(kernel);
  MemorySink unsigned_out;
  const UkiImage built = build_uki_image(req, unsigned_out);
  CHECK(unsigned_out.bytes() == expected.bytes());
  CHECK(built.size == expected.bytes().size());
  CHECK(built.plan.size == plan.size);
  CHECK(built.stub_version == stub_version(stub.bytes(), "stub"));

  test::TempDir d;
  make_key(d, "db", true);
  const keys::Signer key = signer(d, "db");
  const Bytes cert = read_file(d / "db.crt");
  PeSignOptions opt;
  opt.signing_time = 1700000000;
  req.secureboot = UkiSecureBootSigning{&key, cert, "db.crt", opt};
  MemorySink signed_out;
  const UkiImage s = build_uki_image(req, signed_out);
  CHECK(signed_out.bytes() == sign_pe(expected.bytes(), "uki.efi", key, cert, "db.crt", opt));
  CHECK(s.size == signed_out.bytes().size());
  CHECK(s.size > plan.size);
  const auto sigs = verify_pe_signatures(signed_out.bytes(), "uki.efi");
  REQUIRE(sigs.size() == 1);
  CHECK(sigs[0].subject.find("db") != std::string::npos);
  CHECK(sigs[0].digest_matches);
  CHECK(sigs[0].signature_valid);
}

TEST_CASE("build_uki_image signs the PCR 11 policy and checks the public key", "[uki][pcr]") {
  if (!have_stub()) return;
  MappedFile stub(stub252());
  const Bytes kernel(4096, 0x4b);
  test::TempDir d;
  make_key(d, "pcr", false);
  make_key(d, "other", false);
  const keys::Signer key = signer(d, "pcr");
  const Bytes pub = read_file(d / "pcr.pub");
  const Bytes other = read_file(d / "other.pub");

  UkiImageRequest req;
  req.stub = stub.bytes();
  req.stub_name = "stub";
  req.output_name = "uki.efi";
  req.contents = contents(kernel);
  req.contents.pcrpkey = pub;
  req.pcr = UkiPcrSigning{&key, {"sha256"}, {}, pub, "pcr.pub"};
  MemorySink out;
  const UkiImage built = build_uki_image(req, out);
  bool has_pcrsig = false;
  for (const auto& s : built.plan.sections) has_pcrsig |= s.name == ".pcrsig";
  CHECK(has_pcrsig);
  const pe::PeImage pe = pe::parse_pe_image(out.bytes(), "uki.efi");
  CHECK(pe.sections.size() == built.plan.sections.size());

  req.pcr->public_key = std::span<const std::uint8_t>(other);
  req.pcr->public_key_display = "other.pub";
  MemorySink bad;
  try {
    build_uki_image(req, bad);
    FAIL("a public key of another key was accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("other.pub") != std::string::npos);
  }
}
