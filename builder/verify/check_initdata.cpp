// The `initdata` check of `mkguest verify` (docs/kata.md §5): initdata.toml in
// OUTDIR read again and bound again with the build's function
// (builder/measure/initdata.h): the digest, HOST_DATA, MRCONFIGID and PCR 8 of
// the manifest's `initdata` section, `host_data` in measurements.snp,
// `mrconfigid` in measurements.tdx, and the annotation file.
#include "base/error.h"
#include "base/file.h"
#include "builder/formats/initdata/initdata.h"
#include "builder/measure/initdata.h"
#include "builder/verify/verify.h"

namespace mkguest::attest {

bool check_initdata(const VerifyContext& ctx, std::vector<Finding>* findings) {
  const json* i = find(ctx.manifest, {"initdata"});
  if (!i) return false;
  const std::string file = find_string(*i, {"file"});
  const std::filesystem::path p = ctx.output_path(file.empty() ? "initdata.toml" : file);
  if (!std::filesystem::exists(p)) {
    findings->push_back({"initdata", file, "missing from the output directory"});
    return true;
  }
  const Bytes bytes = read_file(p);
  const measure::InitdataBinding b = measure::initdata_binding(initdata::parse(bytes, p.string()));
  auto expect = [&](const std::string& subject, const std::string& recorded,
                    const std::string& derived) {
    if (recorded != derived)
      findings->push_back(
          {"initdata", subject, "differs: manifest " + recorded + ", derived " + derived});
  };
  expect("algorithm", find_string(*i, {"algorithm"}), std::string(hash_name(b.algorithm)));
  expect("digest", find_string(*i, {"digest"}), to_hex(b.digest));
  expect("snp_host_data", find_string(*i, {"snp_host_data"}), to_hex(b.snp_host_data));
  expect("tdx_mrconfigid", find_string(*i, {"tdx_mrconfigid"}), to_hex(b.tdx_mrconfigid));
  expect("tpm_pcr8", find_string(*i, {"tpm_pcr8"}), b.pcr8 ? to_hex(*b.pcr8) : "");
  if (find(ctx.manifest, {"measurements", "snp"}))
    expect("measurements.snp.host_data",
           find_string(ctx.manifest, {"measurements", "snp", "host_data"}),
           to_hex(b.snp_host_data));
  if (find(ctx.manifest, {"measurements", "tdx"}))
    expect("measurements.tdx.mrconfigid",
           find_string(ctx.manifest, {"measurements", "tdx", "mrconfigid"}),
           to_hex(b.tdx_mrconfigid));
  const std::string ann = find_string(*i, {"annotation", "file"});
  if (!ann.empty()) {
    const std::filesystem::path a = ctx.output_path(ann);
    if (!std::filesystem::exists(a))
      findings->push_back({"initdata", ann, "missing from the output directory"});
    else if (read_text_file(a) != initdata::annotation_value(bytes))
      findings->push_back({"initdata", ann, "is not the annotation of initdata.toml"});
  }
  return true;
}

}  // namespace mkguest::attest
