#include "builder/pipeline/se_stage.h"

#include <ctime>
#include <memory>
#include <optional>

#include "base/error.h"
#include "base/file.h"
#include "base/secret.h"
#include "builder/formats/se/hkd.h"
#include "builder/formats/se/image.h"
#include "builder/measure/se_values.h"

namespace mkguest {
namespace {

SecretBytes key_file(BuildContext& ctx, const recipe::PathRef& p, std::size_t size,
                     const char* what) {
  SecretBytes b = read_secret_file(p.resolved, p.display, [&ctx](const std::string& m) {
    if (ctx.progress) ctx.progress->warn(m);
  });
  if (b.size() != size)
    throw file_error(p.display, std::string(what) + " must be exactly " + std::to_string(size) +
                                    " bytes, not " + std::to_string(b.size()));
  return b;
}

void add_input(BuildContext& ctx, const std::string& role, const recipe::PathRef& p,
               std::span<const std::uint8_t> bytes) {
  ctx.manifest.add_input(role, p.display, bytes.size(), digest(HashAlg::kSha256, bytes));
}

}  // namespace

void stage_se(BuildContext& ctx) {
  const recipe::SeSpec& s = ctx.recipe.outputs.se;
  se::HkdOptions ho;
  for (const auto& k : s.host_keys) ho.host_key_docs.push_back(k.resolved.string());
  for (const auto& c : s.certs) ho.certs.push_back(c.resolved.string());
  for (const auto& c : s.crls) ho.crls.push_back(c.resolved.string());
  if (s.root_ca) ho.root_ca = s.root_ca->resolved.string();
  ho.no_verify = s.no_verify;
  ho.at = ctx.env ? static_cast<std::time_t>(ctx.env->now) : 0;
  if (s.no_verify && ctx.progress)
    ctx.progress->warn(
        "outputs.se: host-key document verification is disabled (no_verify). "
        "Your workload is not secured.");
  if (!s.test_seed.empty() && ctx.progress)
    ctx.progress->warn(
        "outputs.se: test_seed makes every SE key, IV and tweak a function of the "
        "seed: UNSAFE FOR PRODUCTION");
  const std::vector<se::HostKey> keys = se::load_host_keys(ho);

  MappedFile kernel(ctx.recipe.kernel.resolved), s3a(s.stage3a.resolved), s3b(s.stage3b.resolved);
  std::unique_ptr<MappedFile> initrd;
  se::ImageInputs in;
  in.kernel = kernel.bytes();
  in.kernel_name = ctx.recipe.kernel.display;
  in.stage3a = s3a.bytes();
  in.stage3a_name = s.stage3a.display;
  in.stage3b = s3b.bytes();
  in.stage3b_name = s.stage3b.display;
  in.parmline = Bytes(ctx.cmdline.begin(), ctx.cmdline.end());
  in.parmline_name = "cmdline";
  if (ctx.artifacts.count("initrd")) {
    initrd = std::make_unique<MappedFile>(ctx.path_of("initrd"));
    in.initrd = initrd->bytes();
  }
  for (const auto& k : keys) in.host_keys.push_back(k.key.get());
  in.component_check = s.component_check;
  in.release = [&](std::span<const std::uint8_t> r) {
    kernel.release(r);
    if (initrd) initrd->release(r);
  };
  se::Secrets sec;
  if (s.image_key) sec.image_key = key_file(ctx, *s.image_key, 64, "the image (XTS) key");
  if (s.comm_key) sec.cck = key_file(ctx, *s.comm_key, 32, "the customer communication key");
  if (s.header_key) sec.header_key = key_file(ctx, *s.header_key, 32, "the header key");
  se::Flags f;
  if (s.layout == "pvimg") f.layout = se::Layout::kPvimg;
  f.pcf = s.pcf;
  f.scf = s.scf;
  auto rnd = s.test_seed.empty() ? se::system_random() : se::seeded_random(s.test_seed);

  std::optional<se::BuiltImage> img;
  ctx.write_artifact("se", s.file, [&](ByteSink& out) {
    img = se::write_image(in, sec, f, *rnd, out);
    out.finish();
  });
  ctx.write_artifact("se-header", s.hdr_file, [&](ByteSink& out) {
    out.write(img->header);
    out.finish();
  });

  const Bytes s3a_sha = digest(HashAlg::kSha256, s3a.bytes());
  const Bytes s3b_sha = digest(HashAlg::kSha256, s3b.bytes());
  ctx.manifest.add_input("se-stage3a", s.stage3a.display, s3a.size(), s3a_sha);
  ctx.manifest.add_input("se-stage3b", s.stage3b.display, s3b.size(), s3b_sha);
  for (const auto& k : s.host_keys) add_input(ctx, "se-host-key", k, read_file(k.resolved));
  nlohmann::json j = se::values_json(*img);
  j["file"] = s.file;
  j["hdr_file"] = s.hdr_file;
  j["loaders"] = {{"stage3a", {{"path", s.stage3a.display}, {"sha256", to_hex(s3a_sha)}}},
                  {"stage3b", {{"path", s.stage3b.display}, {"sha256", to_hex(s3b_sha)}}}};
  nlohmann::json hk = nlohmann::json::array();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    char subject[512];
    X509_NAME_oneline(X509_get_subject_name(keys[i].cert.get()), subject, sizeof subject);
    hk.push_back(
        {{"path", s.host_keys[i].display}, {"subject", subject}, {"phkh", to_hex(keys[i].phkh)}});
  }
  j["host_keys"] = hk;
  j["host_keys_verified"] = !s.no_verify;
  j["reproducible"] = !s.test_seed.empty();
  if (!s.test_seed.empty()) j["unsafe_test_seed"] = true;
  ctx.manifest.measurements()["se"] = j;
}

}  // namespace mkguest
