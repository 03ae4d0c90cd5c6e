#include "builder/pipeline/initdata_stage.h"

#include "base/error.h"
#include "base/file.h"
#include "builder/formats/initdata/initdata.h"
#include "builder/measure/initdata.h"

namespace mkguest {

namespace {

Bytes document_bytes(const BuildPlan& plan, const recipe::InitdataSpec& s) {
  if (s.file) {
    const auto b = plan.initdata->bytes();
    return Bytes(b.begin(), b.end());
  }
  HashAlg alg = HashAlg::kSha256;
  parse_hash_alg(s.algorithm, &alg);  // the recipe allows sha256, sha384, sha512 only
  try {
    const std::string text = initdata::render(alg, s.data);
    return Bytes(text.begin(), text.end());
  } catch (const ValueError& e) {
    throw InputError(s.mark.file, s.mark.place(), e.message());
  }
}

}  // namespace

void stage_initdata(BuildContext& ctx) {
  const recipe::InitdataSpec& s = ctx.recipe.initdata;
  const Bytes bytes = document_bytes(ctx.plan, s);  // a file: recorded as an input by the plan
  // Validated here for both forms: the file at its TOML line and column.
  const initdata::Document doc =
      initdata::parse(bytes, s.file ? s.file->display : s.mark.file + " (initdata)");
  const measure::InitdataBinding b = measure::initdata_binding(doc);
  ctx.write_artifact(ctx.artifacts.initdata, "initdata", "initdata.toml", [&](ByteSink& out) {
    out.write(bytes);
    out.finish();
  });
  const std::string annotation = initdata::annotation_value(bytes);
  ctx.write_artifact(ctx.artifacts.initdata_annotation, "initdata-annotation",
                     "initdata.annotation", [&](ByteSink& out) {
                       out.write(as_bytes(annotation));
                       out.finish();
                     });
  nlohmann::json j = {
      {"file", "initdata.toml"},
      {"algorithm", std::string(hash_name(b.algorithm))},
      {"digest", to_hex(b.digest)},
      {"snp_host_data", to_hex(b.snp_host_data)},
      {"tdx_mrconfigid", to_hex(b.tdx_mrconfigid)},
      {"annotation",
       {{"name", std::string(initdata::kAnnotation)}, {"file", "initdata.annotation"}}}};
  if (b.pcr8) j["tpm_pcr8"] = to_hex(*b.pcr8);
  ctx.manifest.section("initdata") = j;
}

void bind_initdata(BuildContext& ctx) {
  const nlohmann::json& j = ctx.manifest.json().at("initdata");
  auto& m = ctx.manifest.measurements();
  if (m.contains("snp")) m["snp"]["host_data"] = j.at("snp_host_data");
  if (m.contains("tdx")) m["tdx"]["mrconfigid"] = j.at("tdx_mrconfigid");
}

}  // namespace mkguest
