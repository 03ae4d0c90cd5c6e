// The init-data binding: what each TEE holds for an init-data document
// (docs/kata.md §3). One pure function; `measure initdata`, the build and the
// Trustee export call it.
//
// The digest is the document's algorithm over the document's bytes as the
// guest receives them (Kata kata-runtime src/runtime/pkg/oci/utils.go
// addHypervisorInitdataOverrides; runtime-rs kata-types initdata.rs
// calculate_initdata_digest; the kata-agent src/agent/src/initdata.rs and the
// attestation agent initdata.rs hash the same bytes). It is then fitted to the
// platform field: truncated at the end when longer, zero-padded at the end
// when shorter (the spec's rule; Kata's adjust_digest / adjustProperLength,
// guest-components attester utils.rs pad, Trustee verifier regularize_data):
//   SNP HOST_DATA      32 bytes (SNP_LAUNCH_FINISH HOST_DATA; QEMU host-data=)
//   TDX MRCONFIGID     48 bytes (TD_PARAMS.MRCONFIGID; QEMU mrconfigid=)
//   vTPM PCR 8         SHA-256 bank, one extend from zero of the 32-byte digest:
//                      sha256(0x00*32 || digest) (guest-components attester
//                      tpm/mod.rs and az_snp_vtpm; Trustee verifier tpm/mod.rs
//                      verify_init_data). Only a sha256 document can be bound:
//                      the attester refuses a digest that is not 32 bytes.
#pragma once

#include <cstddef>
#include <optional>

#include "base/digest.h"
#include "builder/formats/initdata/initdata.h"

namespace mkguest::measure {

inline constexpr std::size_t kSnpHostDataSize = 32;
inline constexpr std::size_t kTdxMrConfigIdSize = 48;
inline constexpr unsigned kInitdataPcr = 8;

struct InitdataBinding {
  HashAlg algorithm = HashAlg::kSha256;
  Bytes digest;               // algorithm(document bytes)
  Bytes snp_host_data;        // 32 bytes
  Bytes tdx_mrconfigid;       // 48 bytes
  std::optional<Bytes> pcr8;  // SHA-256 bank; only for a sha256 document
};

// `digest` truncated or zero-padded at the end to `size` bytes.
Bytes fit_initdata_digest(std::span<const std::uint8_t> digest, std::size_t size);

// The binding of a parsed document (its bytes and its algorithm).
InitdataBinding initdata_binding(const initdata::Document& doc);

}  // namespace mkguest::measure
