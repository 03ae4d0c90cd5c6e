// `mkguest measure initdata FILE [--platform snp|tdx|tpm] [--json]`: what each
// TEE holds for a CoCo init-data document, and Kata's pod annotation for it
// (builder/measure/initdata.h; docs/kata.md §3).
#include <iostream>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file.h"
#include "builder/cli/commands.h"
#include "builder/formats/initdata/initdata.h"
#include "builder/measure/initdata.h"

namespace mkguest::cli {

namespace {

struct InitdataArgs {
  std::string file;
  std::string platform;
  bool json = false;
};

nlohmann::ordered_json platform_json(const measure::InitdataBinding& b, const std::string& p) {
  nlohmann::ordered_json j;
  if (p == "snp") {
    j["host_data"] = to_hex(b.snp_host_data);
    j["qemu"] = "host-data=" + base64_encode(b.snp_host_data);
  } else if (p == "tdx") {
    j["mrconfigid"] = to_hex(b.tdx_mrconfigid);
    j["qemu"] = "mrconfigid=" + base64_encode(b.tdx_mrconfigid);
  } else {
    j["pcr"] = measure::kInitdataPcr;
    j["bank"] = "sha256";
    j["value"] = to_hex(*b.pcr8);
  }
  return j;
}

void run(const InitdataArgs& a) {
  const Bytes bytes = read_file(a.file);
  const initdata::Document doc = initdata::parse(bytes, a.file);
  const measure::InitdataBinding b = measure::initdata_binding(doc);
  if (a.platform == "tpm" && !b.pcr8) {
    throw InputError(a.file, doc.algorithm_place.str(),
                     "the vTPM binding (PCR 8, SHA-256 bank) needs algorithm sha256: the "
                     "attestation agent extends only a 32-byte digest");
  }
  if (a.json) {
    nlohmann::ordered_json j;
    j["algorithm"] = std::string(hash_name(b.algorithm));
    j["digest"] = to_hex(b.digest);
    if (!a.platform.empty()) {
      j[a.platform] = platform_json(b, a.platform);
    } else {
      j["snp"] = platform_json(b, "snp");
      j["tdx"] = platform_json(b, "tdx");
      if (b.pcr8) j["tpm"] = platform_json(b, "tpm");
    }
    j["annotation"] = {{"name", std::string(initdata::kAnnotation)},
                       {"value", initdata::annotation_value(doc.bytes)}};
    std::cout << j.dump(2) << "\n";
    return;
  }
  if (a.platform == "snp") {
    std::cout << to_hex(b.snp_host_data) << "\n";
  } else if (a.platform == "tdx") {
    std::cout << to_hex(b.tdx_mrconfigid) << "\n";
  } else if (a.platform == "tpm") {
    std::cout << to_hex(*b.pcr8) << "\n";
  } else {
    std::cout << "algorithm      " << hash_name(b.algorithm) << "\n"
              << "digest         " << to_hex(b.digest) << "\n"
              << "SNP HOST_DATA  " << to_hex(b.snp_host_data) << "\n"
              << "TDX MRCONFIGID " << to_hex(b.tdx_mrconfigid) << "\n"
              << "vTPM PCR 8     " << (b.pcr8 ? to_hex(*b.pcr8) : "- (needs sha256)") << "\n"
              << initdata::kAnnotation << "=" << initdata::annotation_value(doc.bytes) << "\n";
  }
}

}  // namespace

void register_measure_initdata(CLI::App& app) {
  auto a = std::make_shared<InitdataArgs>();
  auto* cmd = measure_group(app)->add_subcommand(
      "initdata",
      "CoCo init-data: digest, SNP HOST_DATA, TDX MRCONFIGID, vTPM PCR 8 and Kata's annotation");
  cmd->add_option("FILE", a->file, "Init-data TOML document")->required();
  cmd->add_option("--platform", a->platform,
                  "Print only this platform's value: snp (HOST_DATA), tdx (MRCONFIGID), tpm "
                  "(PCR 8)")
      ->check(CLI::IsMember({"snp", "tdx", "tpm"}));
  cmd->add_flag("--json", a->json, "Print the values and the annotation as JSON");
  cmd->callback([a] { run(*a); });
}

}  // namespace mkguest::cli
