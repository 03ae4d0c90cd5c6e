#include "builder/pipeline/se_stage.h"

#include <ctime>
#include <memory>
#include <optional>

#include "base/error.h"
#include "base/file.h"
#include "base/secret.h"
#include "builder/formats/se/build.h"
#include "builder/formats/se/hkd.h"
#include "builder/formats/se/image.h"
#include "builder/measure/se_values.h"

namespace mkguest {
namespace {

SecretBytes key_file(BuildContext& ctx, const recipe::PathRef& p, std::size_t size,
                     const char* what) {
  return se::read_key_file(p.resolved, p.display, size, what, [&ctx](const std::string& m) {
    if (ctx.progress) ctx.progress->warn(m);
  });
}

}  // namespace

void stage_se(BuildContext& ctx) {
  const recipe::SeSpec& s = ctx.recipe.outputs.se;
  se::ImageRequest req;
  se::HkdOptions& ho = req.host_keys;
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

  const InputFile& kernel = *ctx.plan.kernel;
  const InputFile& s3a = *ctx.plan.se.stage3a;
  const InputFile& s3b = *ctx.plan.se.stage3b;
  std::unique_ptr<MappedFile> initrd;
  se::ImageInputs& in = req.inputs;
  in.kernel = kernel.bytes();
  in.kernel_name = ctx.recipe.kernel.display;
  in.stage3a = s3a.bytes();
  in.stage3a_name = s.stage3a.display;
  in.stage3b = s3b.bytes();
  in.stage3b_name = s.stage3b.display;
  in.parmline = Bytes(ctx.cmdline.begin(), ctx.cmdline.end());
  in.parmline_name = "cmdline";
  if (ctx.artifacts.initrd) {
    initrd = std::make_unique<MappedFile>(ctx.path_of(*ctx.artifacts.initrd));
    in.initrd = initrd->bytes();
  }
  in.component_check = s.component_check;
  in.release = [&](std::span<const std::uint8_t> r) {
    kernel.map.release(r);
    if (initrd) initrd->release(r);
  };
  se::Secrets& sec = req.secrets;
  if (s.image_key) sec.image_key = key_file(ctx, *s.image_key, 64, "the image (XTS) key");
  if (s.comm_key) sec.cck = key_file(ctx, *s.comm_key, 32, "the customer communication key");
  if (s.header_key) sec.header_key = key_file(ctx, *s.header_key, 32, "the header key");
  se::Flags& f = req.flags;
  if (ctx.plan.se.layout == SeImageLayout::kPvimg) f.layout = se::Layout::kPvimg;
  f.pcf = s.pcf;
  f.scf = s.scf;
  req.test_seed = s.test_seed;

  std::optional<se::BuiltRequest> built;
  ctx.write_artifact(ctx.artifacts.se, "se", s.file,
                     [&](ByteSink& out) { built = se::build_image(std::move(req), out); });
  const se::BuiltImage* img = &built->image;
  const std::vector<se::HostKey>& keys = built->host_keys;
  ctx.write_artifact(ctx.artifacts.se_header, "se-header", s.hdr_file, [&](ByteSink& out) {
    out.write(img->header);
    out.finish();
  });

  const Bytes& s3a_sha = s3a.sha256;
  const Bytes& s3b_sha = s3b.sha256;
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
