// Fuzz target: a manifest as `mkguest export kata` reads it (builder/attest/kata):
// parse_manifest, then the drop-ins for every platform with every firmware
// path given. A manifest is user input here: each step must succeed or throw
// a mkguest Error. The raw bytes also go through the kernel_verity_params
// parser and the kernel_params check, which must refuse with ValueError only.
// Seeds (tests/corpus/kata/): the manifests of an image build (verity,
// partitioned) with and without SNP launch digests, of an initrd build with
// TDX, and the all-platforms manifest of the manifest_exports corpus.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "builder/attest/kata.h"
#include "builder/manifest/json_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mkguest;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    attest::parse_kata_verity_params(text);
  } catch (const ValueError&) {
  }
  try {
    attest::check_kata_kernel_params(text);
  } catch (const ValueError&) {
  }
  attest::json m;
  try {
    m = attest::parse_manifest(text, "manifest.json");
  } catch (const Error&) {
    return 0;
  }
  attest::KataOptions o;
  o.install_dir = "/opt/fuzz";
  o.firmware = {{"snp", "/fw/snp.fd"}, {"tdx", "/fw/tdx.fd"}, {"coco-dev", "/fw/dev.fd"}};
  try {
    attest::kata_drop_ins(m, o);
  } catch (const Error&) {
  }
  return 0;
}
