// What a platform's predicted value binds: the firmware, the kernel, the
// initrd, the cmdline and (through the verity root hash on a bound cmdline)
// the rootfs. Each measurement stage records it as `covers` in its manifest
// section and warns when a part the build has is not bound: a verifier that
// accepts such a value accepts any kernel (or initrd, cmdline, rootfs).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "builder/pipeline/pipeline.h"

namespace mkguest {

struct Coverage {
  bool firmware = false;
  bool kernel = false;
  bool initrd = false;
  bool cmdline = false;
  bool rootfs = false;  // set by with_rootfs
};

// `c` with rootfs set: the cmdline is bound and carries the build's verity
// root hash.
Coverage with_rootfs(Coverage c, const BuildContext& ctx);

// {"firmware": bool, "kernel": bool, "initrd": bool, "cmdline": bool, "rootfs": bool}
nlohmann::json coverage_json(const Coverage& c);

// The parts the build has (kernel always; initrd, cmdline, rootfs when
// present) that `c` does not bind, e.g. "kernel, initrd"; empty when all are.
std::string unbound_parts(const Coverage& c, const BuildContext& ctx);

// Adds a build warning (ctx.warnings: the CLI prints them in its summary)
// when unbound_parts is not empty: "<what>: the value does not bind the <parts> (<why>)".
void warn_unbound(BuildContext& ctx, const std::string& what, const Coverage& c,
                  const std::string& why);

}  // namespace mkguest
