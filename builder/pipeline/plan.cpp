#include "builder/pipeline/plan.h"

#include <utility>

#include "base/error.h"
#include "builder/fstree/load.h"

namespace mkguest {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void bad_value(const recipe::Mark& m, const std::string& what, const std::string& s,
                            const std::string& allowed) {
  throw InputError(m.file, m.place(), what + " '" + s + "' is not one of " + allowed);
}

void add_tree_input(InputTable& table, const recipe::InitrdTree& t) {
  TreeListing l = tree_listing(t);
  table.add_tree("initrd-tree", t.src.display + "/", l.size, std::move(l.sha256));
}

}  // namespace

InputTable::InputTable(InputOpener opener) : opener_(std::move(opener)) {
  if (!opener_) opener_ = [](const fs::path& p) { return MappedFile(p); };
}

const InputFile& InputTable::add(const std::string& role, const fs::path& path,
                                 const std::string& display) {
  const InputFile* f = nullptr;
  if (auto it = by_path_.find(path); it != by_path_.end()) {
    f = it->second;
  } else {
    MappedFile m = opener_(path);
    const std::uint64_t size = m.size();
    Bytes sha = digest(HashAlg::kSha256, m.bytes());
    files_.push_back(InputFile{path, std::move(m), size, std::move(sha)});
    f = by_path_[path] = &files_.back();
  }
  if (!role.empty()) uses_.push_back(InputUse{role, display, f, f->size, f->sha256});
  return *f;
}

MappedInputs InputTable::lookup() const {
  return [this](const fs::path& p) -> std::optional<std::span<const std::uint8_t>> {
    auto it = by_path_.find(p);
    if (it == by_path_.end()) return std::nullopt;
    return it->second->bytes();
  };
}

void InputTable::add_tree(const std::string& role, const std::string& display, std::uint64_t size,
                          Bytes sha256) {
  uses_.push_back(InputUse{role, display, nullptr, size, std::move(sha256)});
}

RootfsFormat parse_rootfs_format(const std::string& s, const recipe::Mark& m) {
  if (s == "raw") return RootfsFormat::kRaw;
  if (s == "erofs") return RootfsFormat::kErofs;
  bad_value(m, "rootfs.format", s, "raw, erofs");
}

VerityLayout parse_verity_layout(const std::string& s, const recipe::Mark& m) {
  if (s == "separate") return VerityLayout::kSeparate;
  if (s == "appended") return VerityLayout::kAppended;
  if (s == "partitioned") return VerityLayout::kPartitioned;
  bad_value(m, "rootfs.verity.layout", s, "separate, appended, partitioned");
}

PartitionTableType parse_partition_table(const std::string& s, const recipe::Mark& m) {
  if (s == "gpt") return PartitionTableType::kGpt;
  if (s == "mbr") return PartitionTableType::kMbr;
  bad_value(m, "rootfs.verity.partition_table", s, "gpt, mbr");
}

SeImageLayout parse_se_layout(const std::string& s, const recipe::Mark& m) {
  if (s == "genprotimg") return SeImageLayout::kGenprotimg;
  if (s == "pvimg") return SeImageLayout::kPvimg;
  bad_value(m, "outputs.se.layout", s, "genprotimg, pvimg");
}

KernelHashes parse_kernel_hashes(const std::string& s, const recipe::Mark& m) {
  if (s == "auto") return KernelHashes::kAuto;
  if (s == "true") return KernelHashes::kOn;
  if (s == "false") return KernelHashes::kOff;
  bad_value(m, "measurements.snp.kernel_hashes", s, "auto, true, false");
}

SnpVmm parse_snp_vmm(const std::string& s, const recipe::Mark& m) {
  if (s == "QEMU") return SnpVmm::kQemu;
  if (s == "ec2") return SnpVmm::kEc2;
  if (s == "gce") return SnpVmm::kGce;
  bad_value(m, "measurements.snp.vmms", s, "QEMU, ec2, gce");
}

UnameSource parse_uname_source(const std::string& s) {
  return s == "auto" ? UnameSource::kAuto : s.empty() ? UnameSource::kNone : UnameSource::kGiven;
}

TreeListing tree_listing(const recipe::InitrdTree& t) {
  FsTree tree;
  HostTreeOptions o;
  o.uid = t.owner.uid;
  o.gid = t.owner.gid;
  o.preserve_modes = t.preserve_modes;
  load_host_tree(tree, t.src.resolved, t.src.display, o);
  Hasher h(HashAlg::kSha256);
  TreeListing out;
  for (const auto& [path, e] : tree.entries()) {
    std::string line = path + "\t" + fs_type_name(e.type) + "\t" + std::to_string(e.mode) + "\t" +
                       std::to_string(e.uid) + ":" + std::to_string(e.gid) + "\t" + e.link_target;
    if (e.type == FsType::kFile) {
      line += "\t" + to_hex(digest_file(HashAlg::kSha256, e.content.host_path));
      out.size += e.content.size;
    }
    h.update(line + "\n");
  }
  out.sha256 = h.finish();
  return out;
}

BuildPlan make_plan(const recipe::Recipe& r, InputOpener opener) {
  BuildPlan p{r, InputTable(std::move(opener)), {}, nullptr, {}, {}, {}, {}, nullptr, nullptr};
  InputTable& t = p.inputs;
  p.recipe_sha256 = t.add("", r.file.resolved, r.file.display).sha256;
  for (const auto& b : r.bases)
    t.add("recipe-base", b.resolved,
          b.resolved.lexically_relative(r.file.resolved.parent_path()).generic_string());
  if (!r.kernel.resolved.empty()) p.kernel = &t.add("kernel", r.kernel.resolved, r.kernel.display);
  for (const auto& f : r.initrd.early) t.add("initrd-early-file", f.src.resolved, f.src.display);
  for (const auto& f : r.initrd.files) t.add("initrd-file", f.src.resolved, f.src.display);
  for (const auto& a : r.initrd.archives) t.add("initrd-archive", a.src.resolved, a.src.display);
  for (const auto& tr : r.initrd.trees) add_tree_input(t, tr);

  const recipe::RootfsSpec& rs = r.rootfs;
  if (rs.present) {
    p.rootfs.format = parse_rootfs_format(rs.format, rs.mark);
    if (rs.verity.present) {
      p.rootfs.verity_layout = parse_verity_layout(rs.verity.layout, rs.verity.mark);
      p.rootfs.partition_table = parse_partition_table(rs.verity.partition_table, rs.verity.mark);
    }
    if (p.rootfs.format == RootfsFormat::kRaw) {
      p.rootfs.image = &t.add("rootfs-image", rs.source.resolved, rs.source.display);
    } else {
      for (const auto& l : rs.layers) {
        std::error_code ec;
        if (fs::is_regular_file(l.resolved, ec)) t.add("rootfs-layer", l.resolved, l.display);
      }
      for (const auto& f : rs.files)
        if (f.kind == recipe::RootfsFile::Kind::kFile)
          t.add("rootfs-file", f.src.resolved, f.src.display);
    }
  }

  const recipe::UkiSpec& u = r.outputs.uki;
  if (u.present) {
    p.uki.stub = &t.add("uki-stub", u.stub.resolved, u.stub.display);
    p.uki.uname = parse_uname_source(u.uname);
    if (u.os_release)
      p.uki.os_release = &t.add("uki-os-release", u.os_release->resolved, u.os_release->display);
    if (u.splash) p.uki.splash = &t.add("uki-splash", u.splash->resolved, u.splash->display);
    if (u.devicetree)
      p.uki.devicetree = &t.add("uki-devicetree", u.devicetree->resolved, u.devicetree->display);
    for (const auto& [name, ref] : u.sections)
      p.uki.sections.emplace_back(name, &t.add("uki-section", ref.resolved, ref.display));
    if (u.pcr_signature.present) {
      const auto& k = u.pcr_signature.public_key;
      p.uki.pcr_public_key = &t.add("uki-pcr-public-key", k.resolved, k.display);
    }
    if (u.secureboot.present) {
      const auto& c = u.secureboot.certificate;
      p.uki.secureboot_certificate = &t.add("uki-secureboot-certificate", c.resolved, c.display);
    }
  }

  const recipe::SeSpec& s = r.outputs.se;
  if (s.present) {
    p.se.layout = parse_se_layout(s.layout, s.mark);
    p.se.stage3a = &t.add("se-stage3a", s.stage3a.resolved, s.stage3a.display);
    p.se.stage3b = &t.add("se-stage3b", s.stage3b.resolved, s.stage3b.display);
    for (const auto& k : s.host_keys)
      p.se.host_keys.push_back(&t.add("se-host-key", k.resolved, k.display));
  }

  const recipe::SnpSpec& snp = r.measurements.snp;
  if (snp.present) {
    p.snp.kernel_hashes = parse_kernel_hashes(snp.kernel_hashes, snp.mark);
    for (const auto& v : snp.vmms) p.snp.vmms.emplace_back(v, parse_snp_vmm(v, snp.mark));
    p.snp.firmware = &t.add("firmware", snp.firmware, snp.firmware_display);
  }
  const recipe::TdxSpec& tdx = r.measurements.tdx;
  if (tdx.present) p.tdx_firmware = &t.add("firmware", tdx.firmware, tdx.firmware_display);
  if (r.initdata.present && r.initdata.file)
    p.initdata = &t.add("initdata", r.initdata.file->resolved, r.initdata.file->display);
  return p;
}

}  // namespace mkguest
