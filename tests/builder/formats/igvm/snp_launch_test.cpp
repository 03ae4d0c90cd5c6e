// The IGVM mirror of QEMU's SNP launch refuses what it cannot express (its
// bytes and digest are checked against the Python writer and sev-snp-measure
// in tests/builder/measure/igvm/measure_test.cpp).
#include <catch2/catch.hpp>

#include "base/error.h"
#include "builder/formats/igvm/reader.h"
#include "builder/formats/igvm/snp_launch.h"
#include "tests/snp_fixtures.h"

using namespace mkguest;

TEST_CASE("the IGVM SNP launch refuses other VMMs, modes and missing sections", "[igvm]") {
  const Bytes ovmf = test::synth_ovmf(
      2097152, {{0x800000, 0x9000, 1}, {0x80d000, 0x1000, 2}, {0x80e000, 0x1000, 3}});
  const SevFirmware fw = parse_sev_firmware(ByteReader(ovmf, "OVMF.fd"));
  SnpInputs in;
  in.vcpus = 2;
  const Bytes b = igvm::snp_launch_igvm(ovmf, fw, in, 0x30000, "OVMF.fd");
  const igvm::File f = igvm::parse_igvm(b, "out.igvm");
  CHECK(f.initializations.at(0).policy == 0x30000);
  CHECK(f.directives.size() == 512 + 9 + 1 + 1 + 2);
  in.vmm = VmmType::kEc2;
  CHECK_THROWS_AS(igvm::snp_launch_igvm(ovmf, fw, in, 0x30000, "OVMF.fd"), ValueError);
  in.vmm = VmmType::kQemu;
  in.hashes = sev_hashes({}, {}, "");
  CHECK_THROWS_AS(igvm::snp_launch_igvm(ovmf, fw, in, 0x30000, "OVMF.fd"), InputError);
}
