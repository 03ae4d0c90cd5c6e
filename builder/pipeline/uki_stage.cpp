#include "builder/pipeline/uki_stage.h"

#include <functional>
#include <memory>
#include <optional>

#include "base/error.h"
#include "base/file.h"
#include "builder/formats/pe/authenticode.h"
#include "builder/formats/pe/image.h"
#include "builder/formats/pe/sign.h"
#include "builder/formats/uki/sections.h"
#include "builder/formats/uki/writer.h"
#include "builder/keys/keys.h"
#include "builder/measure/uki_pcrs.h"
#include "builder/measure/uki_record.h"
#include "builder/pipeline/coverage.h"
#include "builder/pipeline/uki_image.h"
#include "firmware/tpm_pcr.h"

namespace mkguest {
namespace {

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes copy_of(const InputFile* f) {
  const auto b = f->bytes();
  return Bytes(b.begin(), b.end());
}

// Key-file warnings go to the build's progress reporter.
std::function<void(const std::string&)> warner(const BuildContext& ctx) {
  return [&ctx](const std::string& m) {
    if (ctx.progress) ctx.progress->warn(m);
  };
}

}  // namespace

void stage_uki(BuildContext& ctx) {
  const recipe::UkiSpec& u = ctx.recipe.outputs.uki;
  const UkiPlanInputs& in = ctx.plan.uki;
  const InputFile& stub = *in.stub;
  const InputFile& kernel = *ctx.plan.kernel;
  std::unique_ptr<MappedFile> initrd;
  if (ctx.artifacts.initrd)
    initrd = std::make_unique<MappedFile>(ctx.path_of(*ctx.artifacts.initrd));

  UkiContents c;
  c.linux_image = kernel.bytes();
  if (initrd) c.initrds.push_back(initrd->bytes());
  c.cmdline = bytes_of(ctx.cmdline);  // verbatim, as ukify takes --cmdline=@FILE
  if (in.os_release) c.osrel = copy_of(in.os_release);
  if (in.uname == UnameSource::kAuto) {
    if (auto v = scrape_uname_x86(kernel.bytes())) c.uname = bytes_of(*v);
  } else if (in.uname == UnameSource::kGiven) {
    c.uname = bytes_of(u.uname);
  }
  if (in.splash) c.splash = copy_of(in.splash);
  if (in.devicetree) c.devicetree = copy_of(in.devicetree);
  for (const auto& [name, file] : in.sections) c.extra.emplace_back(name, copy_of(file));
  c.sbat = u.sbat;
  // Profiles, as ukify joins profile PEs built with --profile [--cmdline @F].
  std::vector<Bytes> profile_bytes;
  profile_bytes.reserve(2 * u.profiles.size());  // spans point into it
  if (u.profile || !u.profiles.empty()) c.profile = bytes_of(u.profile.value_or("ID=main"));
  for (const auto& pr : u.profiles) {
    UkiContents::Joined j;
    profile_bytes.push_back(bytes_of(pr.profile));
    j.sections.push_back({".profile", profile_bytes.back()});
    if (pr.cmdline) {
      profile_bytes.push_back(bytes_of(*pr.cmdline));
      j.sections.push_back({".cmdline", profile_bytes.back()});
    }
    c.joined.push_back(std::move(j));
  }
  if (in.pcr_public_key) {
    c.pcrpkey = copy_of(in.pcr_public_key);
    keys::refuse_private_pem(*c.pcrpkey, u.pcr_signature.public_key.display);
  }

  UkiImageRequest req;
  req.stub = stub.bytes();
  req.stub_name = u.stub.display;
  req.output_name = u.file;
  req.contents = std::move(c);
  req.layout.grow_headers = u.grow_headers;
  std::optional<keys::Signer> pcr_key, sb_key;
  if (u.pcr_signature.present) {
    const auto& ps = u.pcr_signature;
    pcr_key.emplace(keys::load_signer(
        {ps.private_key.resolved.string(), ps.private_key.display, {}, {}}, warner(ctx)));
    req.pcr =
        UkiPcrSigning{&*pcr_key, ps.banks, ps.phases, *req.contents.pcrpkey, ps.public_key.display};
  }
  if (u.secureboot.present) {
    // Signed with the recipe's key at the source date, so the bytes are
    // reproducible.
    const auto& sb = u.secureboot;
    keys::SignerRequest kr{sb.key, sb.key_display, sb.pkcs11_module, {}};
    if (ctx.env && !ctx.env->secureboot_secret.empty())
      kr.secret = SecretBytes(ctx.env->secureboot_secret.view());
    sb_key.emplace(keys::load_signer(kr, warner(ctx)));
    UkiSecureBootSigning s;
    s.key = &*sb_key;
    s.certificate = ctx.plan.uki.secureboot_certificate->bytes();
    s.certificate_display = sb.certificate.display;
    s.options.signing_time = ctx.recipe.source_date_epoch;
    req.secureboot = s;
  }
  UkiImage built;
  ctx.write_artifact(ctx.artifacts.uki, "uki", u.file, [&](ByteSink& out) {
    try {
      built = build_uki_image(std::move(req), out);
    } catch (const ValueError& e) {
      throw InputError(u.mark.file, u.mark.place(), e.message());
    }
  });
  const UkiPlan& plan = built.plan;

  // The manifest's record, from the bytes written.
  MappedFile out(ctx.path_of(*ctx.artifacts.uki));
  const pe::PeImage p = pe::parse_pe_image(out.bytes(), u.file);
  nlohmann::json& j = ctx.manifest.section("uki");
  j = {{"file", u.file},
       {"stub",
        {{"path", u.stub.display},
         {"sha256", to_hex(stub.sha256)},
         {"version", stub_version(stub.bytes(), u.stub.display)}}},
       {"sections", uki_section_record(out.bytes(), p)},
       {"size_of_headers", plan.size_of_headers},
       {"authenticode", uki_authenticode_record(out.bytes(), u.file)}};
  if (plan.headers_grown_from) j["headers_grown_from"] = plan.headers_grown_from;
  if (u.secureboot.present) {
    nlohmann::json sigs = nlohmann::json::array();
    for (const auto& sig : verify_pe_signatures(out.bytes(), u.file))
      sigs.push_back({{"subject", sig.subject},
                      {"digest_algorithm", sig.digest_algorithm},
                      {"signed_digest", sig.signed_digest}});
    j["signatures"] = sigs;
  }

  // The vTPM PCRs a boot of this UKI extends (docs/pcr.md).
  nlohmann::json tpm =
      predict_uki_pcrs(out.bytes(), u.file, ctx.recipe.outputs.direct && initrd != nullptr,
                       ctx.recipe.measurements.tpm.direct_ram_mib);
  // What the predicted PCRs bind, per boot path: the UKI's PCR 4 and 11 bind
  // everything inside it; a direct boot needs PCR 4 (direct_ram_mib) for the
  // kernel and PCR 9 for the cmdline and initrd. PCR 0-2 (firmware) are not
  // predicted.
  Coverage uki_covers;
  uki_covers.kernel = uki_covers.initrd = uki_covers.cmdline = true;
  tpm["covers"]["uki"] = coverage_json(with_rootfs(uki_covers, ctx));
  if (ctx.recipe.outputs.direct) {
    Coverage d;
    d.kernel = !ctx.recipe.measurements.tpm.direct_ram_mib.empty();
    d.initrd = d.cmdline = tpm["pcr9"]["sha256"].contains("direct-qemu-ovmf");
    d = with_rootfs(d, ctx);
    tpm["covers"]["direct-qemu-ovmf"] = coverage_json(d);
    warn_unbound(ctx, "measurements.tpm (direct-qemu-ovmf)", d,
                 d.kernel ? "PCR 9 of a direct boot is predicted only with an initrd"
                          : "PCR 4 of a direct boot needs measurements.tpm.direct_ram_mib");
  }
  warn_unbound(ctx, "measurements.tpm (uki)", with_rootfs(uki_covers, ctx),
               "the cmdline carries no verity root hash");
  ctx.manifest.measurements()["tpm"] = tpm;
}

}  // namespace mkguest
