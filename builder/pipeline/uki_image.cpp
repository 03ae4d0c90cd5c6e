#include "builder/pipeline/uki_image.h"

#include "builder/measure/pcr_sign.h"
#include "firmware/tpm_pcr.h"

namespace mkguest {

UkiImage build_uki_image(UkiImageRequest req, ByteSink& out) {
  UkiImage result;
  result.stub_version = stub_version(req.stub, req.stub_name);
  UkiContents& c = req.contents;
  UkiSections sections = ukify_sections(req.stub, c);
  if (req.pcr) {
    // .pcrpkey is measured, .pcrsig is not: the signature is over the
    // sections the stub measures for each profile, so it comes first.
    const UkiPcrSigning& ps = *req.pcr;
    PcrSignRequest r;
    r.stub_major = result.stub_version.empty() ? 257 : tpm::stub_major(result.stub_version);
    r.banks = ps.banks;
    r.phases = ps.phases;
    if (ps.public_key) check_pcr_public_key(*ps.key, *ps.public_key, ps.public_key_display);
    sign_uki_profiles(*ps.key, r, req.stub, c);
    sections = ukify_sections(req.stub, c);
  }
  result.notes = sections.notes;
  result.plan = plan_uki(req.stub, req.stub_name, sections.list, req.layout);
  if (!req.secureboot) {
    write_uki(result.plan, out);
    result.size = result.plan.size;
    return result;
  }
  const UkiSecureBootSigning& sb = *req.secureboot;
  MemorySink image;
  write_uki(result.plan, image);
  const Bytes signed_image = sign_pe(image.bytes(), req.output_name, *sb.key, sb.certificate,
                                     sb.certificate_display, sb.options);
  out.write(signed_image);
  out.finish();
  result.size = signed_image.size();
  return result;
}

}  // namespace mkguest
