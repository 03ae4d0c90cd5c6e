#include "builder/pipeline/coverage.h"

namespace mkguest {

Coverage with_rootfs(Coverage c, const BuildContext& ctx) {
  const auto root = ctx.variables.find("verity.root_hash");
  c.rootfs = c.cmdline && root != ctx.variables.end() && !root->second.empty() &&
             ctx.cmdline.find(root->second) != std::string::npos;
  return c;
}

nlohmann::json coverage_json(const Coverage& c) {
  return {{"firmware", c.firmware},
          {"kernel", c.kernel},
          {"initrd", c.initrd},
          {"cmdline", c.cmdline},
          {"rootfs", c.rootfs}};
}

std::string unbound_parts(const Coverage& c, const BuildContext& ctx) {
  std::string out;
  auto add = [&](bool has, bool bound, const char* name) {
    if (has && !bound) out += (out.empty() ? "" : ", ") + std::string(name);
  };
  add(true, c.kernel, "kernel");
  add(ctx.artifacts.initrd.has_value(), c.initrd, "initrd");
  add(!ctx.cmdline.empty(), c.cmdline, "cmdline");
  add(ctx.recipe.rootfs.present, c.rootfs, "rootfs");
  return out;
}

void warn_unbound(BuildContext& ctx, const std::string& what, const Coverage& c,
                  const std::string& why) {
  const std::string parts = unbound_parts(c, ctx);
  if (parts.empty()) return;
  ctx.warnings.push_back(what + ": the value does not bind the " + parts + " (" + why + ")");
}

}  // namespace mkguest
