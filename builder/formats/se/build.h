// The one entry point that makes an IBM Secure Execution image (docs/se.md):
// `mkguest se build` and the build's se stage both fill an ImageRequest and
// call build_image. It loads (and unless told not to, verifies) the host-key
// documents, draws the keys, IV and tweaks the request does not give from the
// CSPRNG (or, for tests only, from a seed), and writes the image through
// se::write_image (image.h, the layout of genprotimg 2.35 or pvimg).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/secret.h"
#include "base/sink.h"
#include "builder/formats/se/hkd.h"
#include "builder/formats/se/image.h"

namespace mkguest::se {

struct ImageRequest {
  HkdOptions host_keys;  // the documents, their chain and CRLs, the time to check them at
  ImageInputs inputs;    // the components; host_keys is filled from the documents
  Secrets secrets;       // given keys and nonces; the rest are drawn
  Flags flags;
  // Non-empty: every key, IV and tweak is a function of this seed. For tests:
  // such an image is not secret.
  std::string test_seed;
};

struct BuiltRequest {
  BuiltImage image;
  std::vector<HostKey> host_keys;  // as loaded, in the request's order
};

// Writes the image of `req` into `out` (finished) and returns its values.
BuiltRequest build_image(ImageRequest req, ByteSink& out);

// A key file of exactly `size` bytes, read into wiped memory; `warn` hears of
// a file that others can read. Errors name `display`.
SecretBytes read_key_file(const std::filesystem::path& path, const std::string& display,
                          std::size_t size, const char* what,
                          const std::function<void(const std::string&)>& warn);

}  // namespace mkguest::se
