// Host-key document verification against a fake IBM Z PKI made at run time
// with the openssl CLI (tests/data/se-pki.sh): the good chain passes, and an
// expired, revoked, wrong-curve or wrongly issued HKD, a signing certificate
// with the wrong subject, and a missing CRL each get their own error.
#include <catch2/catch.hpp>

#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

struct Pki {
  test::TempDir dir;
  bool ok = false;
  Pki() {
    auto r = test::run(
        {"bash", (test::source_dir() / "tests/data/se-pki.sh").string(), dir.path().string()});
    INFO(r.err);
    ok = r.exit_code == 0;
  }
  std::string p(const std::string& n) const { return (dir / n).string(); }
};

test::RunResult build(const Pki& pki, const std::string& hkd, std::vector<std::string> extra,
                      bool all_crls = true) {
  const fs::path v = test::source_dir() / "tests/vectors/se";
  std::vector<std::string> args = {"se",        "build",
                                   "-i",        pki.p("kernel"),
                                   "--stage3a", pki.p("s3a"),
                                   "--stage3b", pki.p("s3b"),
                                   "-o",        pki.p("out.img"),
                                   "-k",        pki.p(hkd),
                                   "--root-ca", pki.p("root_ca.crt"),
                                   "--offline"};
  if (all_crls)
    for (const char* c : {"ibm.crl", "inter_ca.crl", "root_ca.crl"})
      args.insert(args.end(), {"--crl", pki.p(c)});
  args.insert(args.end(), extra.begin(), extra.end());
  return test::run_mkguest(args);
}

}  // namespace

TEST_CASE("SE host-key documents are verified like genprotimg does", "[se][hkd]") {
  Pki pki;
  REQUIRE(pki.ok);
  std::string k(0x10440, '\0');
  k.replace(0x10008, 6, "S390EP");
  test::write_text(pki.dir / "kernel", k);
  test::write_text(pki.dir / "s3a", std::string(9912, 'a'));  // more than 8 KiB
  test::write_text(pki.dir / "s3b", std::string(100, 'b'));
  const std::vector<std::string> chain = {"-C", pki.p("ibm.crt"), "-C", pki.p("inter_ca.crt")};

  auto r = build(pki, "host.crt", chain);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("not secured") == std::string::npos);
  r = build(pki, "host.crt",
            {"-C", pki.p("ibm.crt"), "-C", pki.p("inter_ca.crt"), "-k", pki.p("host2.crt")});
  CHECK(r.exit_code == 0);

  struct Bad {
    std::string hkd;
    std::vector<std::string> certs;
    bool all_crls;
    std::vector<std::string> extra;
    std::string error;
  };
  const std::vector<Bad> bad = {
      {"expired.crt", chain, true, {}, "expired.crt: error: the host-key document has expired"},
      {"revoked.crt", chain, true, {}, "revoked.crt: error: the host-key document is revoked"},
      {"p384.crt",
       chain,
       true,
       {},
       "p384.crt: error: the host-key document does not use the P-521 curve"},
      {"host_wrong.crt",
       chain,
       true,
       {},
       "host_wrong.crt: error: not issued by the IBM Z signing certificate"},
      {"host_wrong.crt",
       {"-C", pki.p("ibm_wrong.crt"), "-C", pki.p("inter_ca.crt")},
       true,
       {"--crl", pki.p("ibm_wrong.crl")},
       "ibm_wrong.crt: error: no IBM Z signing certificate among --cert"},
      {"host.crt",
       chain,
       false,
       {"--crl", pki.p("inter_ca.crl"), "--crl", pki.p("root_ca.crl")},
       "ibm.crt: error: no valid CRL issued by the IBM Z signing certificate"},
      {"host.crt",
       chain,
       false,
       {"--crl", pki.p("ibm.crl"), "--crl", pki.p("root_ca.crl")},
       "ibm.crt: error: the IBM Z signing certificate does not verify: unable to get certificate "
       "CRL"},
      {"host.crt",
       {"-C", pki.p("ibm.crt")},
       true,
       {},
       "ibm.crt: error: the IBM Z signing certificate does not verify: unable to get local issuer"},
  };
  for (const auto& b : bad) {
    INFO(b.error);
    std::vector<std::string> extra = b.certs;
    extra.insert(extra.end(), b.extra.begin(), b.extra.end());
    auto e = build(pki, b.hkd, extra, b.all_crls);
    CHECK(e.exit_code == 2);
    CHECK_THAT(e.err, Catch::Contains(b.error));
    for (const auto& f : fs::directory_iterator(pki.dir.path()))
      CHECK(f.path().filename().string().find(".mkguest-") == std::string::npos);
  }
  // --no-verify skips the chain, loudly, but never the curve.
  r = build(pki, "expired.crt", {"--no-verify"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("WARNING: host-key document verification is disabled. Your "
                                    "workload is not secured."));
  r = build(pki, "p384.crt", {"--no-verify"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("does not use the P-521 curve"));
}
