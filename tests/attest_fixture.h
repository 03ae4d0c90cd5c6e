// A synthetic build output for the attestation tests: artifacts with
// deterministic bytes, an IBM SE image with a well-formed SE header (v1
// layout), and a manifest v1 that describes them with SNP, TDX, TPM and SE
// measurements. The measurement values are arbitrary but well-shaped: the
// tests check that exports carry them through, not that they are right.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/byte_writer.h"
#include "base/digest.h"
#include "base/sink.h"
#include "builder/formats/se/image.h"
#include "tests/test_util.h"

namespace mkguest::test {

inline Bytes pseudo_bytes(std::size_t n, std::uint32_t seed) {
  Bytes b(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& v : b) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<std::uint8_t>(x >> 24);
  }
  return b;
}

inline std::string hex_of(std::uint8_t byte, std::size_t n) { return to_hex(Bytes(n, byte)); }

struct SeImage {
  Bytes image;
  std::string tag;
  std::vector<std::string> phkh;
  std::string pld, ald, tld;
};

// A real SE image (builder/formats/se/image.h) with two host keys and seeded secrets.
inline SeImage make_se_image() {
  SeImage s;
  auto rnd = se::seeded_random("attest fixture");
  std::vector<ossl::Pkey> hosts;
  se::ImageInputs in;
  const Bytes kernel = pseudo_bytes(0x20000, 7), s3a = pseudo_bytes(9912, 8),
              s3b = pseudo_bytes(5860, 9), initrd = pseudo_bytes(10000, 6);
  in.kernel = kernel;
  in.stage3a = s3a;
  in.stage3b = s3b;
  in.initrd = std::span<const std::uint8_t>(initrd);
  in.parmline = Bytes{'c', 'o', 'n', 's', 'o', 'l', 'e'};
  in.component_check = false;
  for (int i = 0; i < 2; ++i) {
    hosts.push_back(se::generate_p521(*rnd));
    in.host_keys.push_back(hosts.back().get());
  }
  MemorySink out;
  const se::BuiltImage img = se::write_image(in, {}, {}, *rnd, out);
  for (const auto& p : img.phkh) s.phkh.push_back(to_hex(p));
  s.tag = to_hex(img.tag);
  s.pld = to_hex(img.pld);
  s.ald = to_hex(img.ald);
  s.tld = to_hex(img.tld);
  s.image = out.bytes();
  return s;
}

// Writes the artifacts and manifest.json into `dir`; returns the manifest.
inline nlohmann::json make_outdir(const std::filesystem::path& dir) {
  using nlohmann::json;
  std::filesystem::create_directories(dir);
  SeImage se = make_se_image();
  std::vector<std::pair<std::string, Bytes>> files{
      {"initrd", pseudo_bytes(70000, 1)},
      {"vmlinuz", pseudo_bytes(40000, 2)},
      {"rootfs.erofs", pseudo_bytes(9000, 3)},
      {"se.img", se.image},
  };
  json outputs = json::array();
  for (const auto& [name, bytes] : files) {
    std::filesystem::path p = dir / name;
    write_text(p, std::string(bytes.begin(), bytes.end()));
    std::string role = name == "vmlinuz"        ? "kernel"
                       : name == "se.img"       ? "se-image"
                       : name == "rootfs.erofs" ? "rootfs"
                                                : name;
    outputs.push_back({{"role", role},
                       {"file", name},
                       {"size", bytes.size()},
                       {"sha256", to_hex(digest(HashAlg::kSha256, bytes))},
                       {"sha384", to_hex(digest(HashAlg::kSha384, bytes))}});
  }
  json m{
      {"manifest_version", 1},
      {"tool", {{"name", "mkguest"}, {"version", "0.1.0"}}},
      {"recipe",
       {{"path", "recipe.yaml"},
        {"sha256", hex_of(0xab, 32)},
        {"name", "coco-base"},
        {"version", "1.4.0"}}},
      {"source_date_epoch", 1700000000},
      {"inputs", json::array({{{"role", "kernel"},
                               {"path", "inputs/vmlinuz"},
                               {"size", 40000},
                               {"sha256", hex_of(0x01, 32)}},
                              {{"role", "initrd"},
                               {"path", "inputs/initrd.cpio"},
                               {"size", 70000},
                               {"sha256", hex_of(0x02, 32)}},
                              {{"role", "firmware"},
                               {"path", "inputs/OVMF.fd"},
                               {"size", 4194304},
                               {"sha256", hex_of(0x03, 32)}},
                              {{"role", "loader"},
                               {"path", "inputs/stage3b_reloc.bin"},
                               {"size", 5860},
                               {"sha256", hex_of(0x04, 32)}}})},
      {"outputs", outputs},
      {"cmdline", "console=ttyS0 root=/dev/vda"},
      {"measurements",
       {{"snp",
         {{"launch_digests", json::array({{{"vcpus", 1},
                                           {"vcpu_type", "EPYC-Milan"},
                                           {"vmm", "QEMU"},
                                           {"mode", "snp"},
                                           {"guest_features", "0x1"},
                                           {"digest", hex_of(0x11, 48)}},
                                          {{"vcpus", 2},
                                           {"vcpu_type", "EPYC-Milan"},
                                           {"vmm", "QEMU"},
                                           {"mode", "snp"},
                                           {"guest_features", "0x1"},
                                           {"digest", hex_of(0x12, 48)}},
                                          {{"vcpus", 1},
                                           {"vcpu_type", "EPYC-Genoa"},
                                           {"vmm", "QEMU"},
                                           {"mode", "snp"},
                                           {"guest_features", "0x1"},
                                           {"digest", hex_of(0x13, 48)}}})},
          {"policy",
           {{"abi_major", 0}, {"abi_minor", 0}, {"smt_allowed", true}, {"single_socket", false}}},
          {"ovmf_hash", hex_of(0x14, 48)}}},
        {"tdx",
         {{"mr_td", {{"single-pass", hex_of(0x21, 48)}, {"two-pass", hex_of(0x22, 48)}}},
          {"rtmr_0", hex_of(0x23, 48)},
          {"rtmr_1", hex_of(0x24, 48)},
          {"rtmr_2", hex_of(0x25, 48)},
          {"tdvfkernel", hex_of(0x26, 48)},
          {"tdvfkernelparams", hex_of(0x27, 48)}}},
        {"tpm",
         {{"pcr4", {{"sha256", hex_of(0x31, 32)}}}, {"pcr11", {{"sha256", hex_of(0x32, 32)}}}}},
        {"se",
         {{"tag", se.tag},
          {"image_phkh", se.phkh},
          {"pld", se.pld},
          {"ald", se.ald},
          {"tld", se.tld}}}}}};
  write_text(dir / "manifest.json", m.dump(2) + "\n");
  return m;
}

}  // namespace mkguest::test
