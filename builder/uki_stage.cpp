#include "builder/uki_stage.h"

#include <memory>

#include "base/error.h"
#include "base/file.h"
#include "builder/uki_sections.h"
#include "builder/uki_writer.h"
#include "firmware/pe_hash.h"
#include "firmware/pe_image.h"

namespace mkguest {
namespace {

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

void add_input(BuildContext& ctx, const std::string& role, const recipe::PathRef& ref,
               std::span<const std::uint8_t> data) {
  ctx.manifest.add_input(role, ref.display, data.size(), digest(HashAlg::kSha256, data));
}

}  // namespace

void stage_uki(BuildContext& ctx) {
  const recipe::UkiSpec& u = ctx.recipe.outputs.uki;
  MappedFile stub(u.stub.resolved);
  MappedFile kernel(ctx.recipe.kernel.resolved);
  add_input(ctx, "uki-stub", u.stub, stub.bytes());
  std::unique_ptr<MappedFile> initrd;
  if (ctx.artifacts.count("initrd")) initrd = std::make_unique<MappedFile>(ctx.path_of("initrd"));

  UkiContents c;
  c.linux_image = kernel.bytes();
  if (initrd) c.initrds.push_back(initrd->bytes());
  c.cmdline = bytes_of(ctx.cmdline);  // verbatim, as ukify takes --cmdline=@FILE
  if (u.os_release) {
    c.osrel = read_file(u.os_release->resolved);
    add_input(ctx, "uki-os-release", *u.os_release, *c.osrel);
  }
  if (u.uname == "auto") {
    if (auto v = scrape_uname_x86(kernel.bytes())) c.uname = bytes_of(*v);
  } else if (!u.uname.empty()) {
    c.uname = bytes_of(u.uname);
  }
  if (u.splash) {
    c.splash = read_file(u.splash->resolved);
    add_input(ctx, "uki-splash", *u.splash, *c.splash);
  }
  if (u.devicetree) {
    c.devicetree = read_file(u.devicetree->resolved);
    add_input(ctx, "uki-devicetree", *u.devicetree, *c.devicetree);
  }
  for (const auto& [name, ref] : u.sections) {
    c.extra.emplace_back(name, read_file(ref.resolved));
    add_input(ctx, "uki-section", ref, c.extra.back().second);
  }
  c.sbat = u.sbat;
  const UkiSections sections = ukify_sections(stub.bytes(), c);
  UkiOptions opt;
  opt.grow_headers = u.grow_headers;
  UkiPlan plan;
  try {
    plan = plan_uki(stub.bytes(), u.stub.display, sections.list, opt);
  } catch (const UsageError& e) {
    throw InputError(u.mark.file, u.mark.place(), std::string(e.what()).substr(7));
  }
  ctx.write_artifact("uki", u.file, [&](ByteSink& out) { write_uki(plan, out); });

  // The manifest's record, from the bytes written.
  MappedFile out(ctx.path_of("uki"));
  const pe::PeImage p = pe::parse_pe_image(out.bytes(), u.file);
  nlohmann::json secs = nlohmann::json::array();
  for (const auto& s : p.sections) {
    const auto data = pe::section_data(out.bytes(), s);
    secs.push_back({{"name", s.name},
                    {"offset", s.raw_pointer},
                    {"size", s.virtual_size},
                    {"virtual_address", s.virtual_address},
                    {"sha256", to_hex(digest(HashAlg::kSha256, data))}});
  }
  nlohmann::json& j = ctx.manifest.section("uki");
  j = {{"file", u.file},
       {"stub",
        {{"path", u.stub.display},
         {"sha256", to_hex(digest(HashAlg::kSha256, stub.bytes()))},
         {"version", stub_version(stub.bytes(), u.stub.display)}}},
       {"sections", secs},
       {"size_of_headers", plan.size_of_headers},
       {"authenticode",
        {{"sha256", to_hex(pe::authenticode_digest(out.bytes(), u.file, HashAlg::kSha256))},
         {"sha384", to_hex(pe::authenticode_digest(out.bytes(), u.file, HashAlg::kSha384))}}}};
  if (plan.headers_grown_from) j["headers_grown_from"] = plan.headers_grown_from;
}

}  // namespace mkguest
