// The one entry point of an SE image (see build.h).
#include "builder/formats/se/build.h"

#include "base/error.h"
#include "builder/formats/se/crypto.h"

namespace mkguest::se {

BuiltRequest build_image(ImageRequest req, ByteSink& out) {
  BuiltRequest built;
  built.host_keys = load_host_keys(req.host_keys);
  req.inputs.host_keys.clear();
  for (const auto& k : built.host_keys) req.inputs.host_keys.push_back(k.key.get());
  auto rnd = req.test_seed.empty() ? system_random() : seeded_random(req.test_seed);
  built.image = write_image(req.inputs, req.secrets, req.flags, *rnd, out);
  out.finish();
  return built;
}

SecretBytes read_key_file(const std::filesystem::path& path, const std::string& display,
                          std::size_t size, const char* what,
                          const std::function<void(const std::string&)>& warn) {
  SecretBytes b = read_secret_file(path, display, warn);
  if (b.size() != size)
    throw file_error(display, std::string(what) + " must be exactly " + std::to_string(size) +
                                  " bytes, not " + std::to_string(b.size()));
  return b;
}

}  // namespace mkguest::se
