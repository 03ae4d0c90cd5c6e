// The init-data binding (initdata.h; docs/kata.md §3).
#include "builder/measure/initdata.h"

#include <algorithm>

namespace mkguest::measure {

Bytes fit_initdata_digest(std::span<const std::uint8_t> digest, std::size_t size) {
  Bytes out(size, 0);
  std::copy_n(digest.begin(), std::min(size, digest.size()), out.begin());
  return out;
}

InitdataBinding initdata_binding(const initdata::Document& doc) {
  InitdataBinding b;
  b.algorithm = doc.algorithm;
  b.digest = digest(doc.algorithm, doc.bytes);
  b.snp_host_data = fit_initdata_digest(b.digest, kSnpHostDataSize);
  b.tdx_mrconfigid = fit_initdata_digest(b.digest, kTdxMrConfigIdSize);
  if (doc.algorithm == HashAlg::kSha256) {
    Bytes extend(32, 0);
    extend.insert(extend.end(), b.digest.begin(), b.digest.end());
    b.pcr8 = digest(HashAlg::kSha256, extend);
  }
  return b;
}

}  // namespace mkguest::measure
