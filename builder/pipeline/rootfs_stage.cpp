// The rootfs + verity pipeline stage (see rootfs_stage.h, docs/verity.md).
#include "builder/pipeline/rootfs_stage.h"

#include "builder/formats/erofs/rootfs.h"

#include <algorithm>

#include "base/error.h"
#include "builder/formats/disk/disk_image.h"
#include "verity/cmdline.h"
#include "verity/derive.h"
#include "verity/verity_file.h"

namespace mkguest {

namespace {

constexpr std::size_t kChunk = 1 << 20;

void emit_zeros(ByteSink& out, std::uint64_t n) {
  static const std::uint8_t kZeros[65536] = {};
  while (n) {
    std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n, sizeof kZeros));
    out.write(std::span<const std::uint8_t>(kZeros, k));
    n -= k;
  }
}

// Streams the image, then zeros up to `padded` bytes.
void emit_image(ByteSink& out, const verity::DataSource& src, std::uint64_t padded,
                ByteProgress* progress) {
  Bytes buf(kChunk);
  for (std::uint64_t off = 0; off < src.size(); off += kChunk) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, src.size() - off));
    src.read(off, std::span<std::uint8_t>(buf.data(), n));
    out.write(std::span<const std::uint8_t>(buf.data(), n));
    add_progress(progress, n);
  }
  emit_zeros(out, padded - src.size());
}

Bytes stream_sha256(const verity::DataSource& src, ByteProgress* progress = nullptr) {
  Hasher h(HashAlg::kSha256);
  Bytes buf(kChunk);
  for (std::uint64_t off = 0; off < src.size(); off += kChunk) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, src.size() - off));
    src.read(off, std::span<std::uint8_t>(buf.data(), n));
    h.update(std::span<const std::uint8_t>(buf.data(), n));
    add_progress(progress, n);
  }
  return h.finish();
}

[[noreturn]] void fail_at(const recipe::Mark& m, const std::string& msg) {
  throw InputError(m.file, m.place(), msg);
}

}  // namespace

void stage_rootfs(BuildContext& ctx) {
  const recipe::RootfsSpec& rs = ctx.recipe.rootfs;
  if (ctx.plan.rootfs.format == RootfsFormat::kErofs) {
    // Written in-process into the staging directory (outside the output
    // set), then handled like a raw image. The layers and files were hashed
    // by the plan; an overlay file is read from the plan's mapping.
    RootfsSource src;
    src.source_date = ctx.recipe.source_date_epoch;
    src.limits.spill_dir = ctx.staging;  // archive contents on disk, not in memory
    for (const auto& l : rs.layers) src.layers.push_back(l.resolved);
    src.files = rs.files;
    src.inputs = ctx.plan.inputs.lookup();
    std::filesystem::path image = ctx.staging / ".rootfs.erofs";
    build_erofs_image(src, image, ctx.recipe.seed);
    {
      verity::FileSource written(image);
      write_rootfs_artifacts(ctx, written, "rootfs (erofs)");
    }
    std::filesystem::remove(image);
    return;
  }
  // format: raw, the user's image as it is: the plan's mapping and digest
  // (hashed when the plan was made). The step's work: the tree (with
  // verity) and the copy into the output.
  const InputFile& in = *ctx.plan.rootfs.image;
  if (ctx.progress) ctx.progress->expect((rs.verity.present ? 2 : 1) * in.size);
  verity::SpanSource src(in.bytes());
  write_rootfs_artifacts(ctx, src, rs.source.display, &in.sha256);
}

void write_rootfs_artifacts(BuildContext& ctx, const verity::DataSource& src,
                            const std::string& display, const Bytes* image_sha256) {
  const recipe::RootfsSpec& rs = ctx.recipe.rootfs;
  const recipe::VeritySpec& vs = rs.verity;
  if (src.size() == 0) fail_at(rs.mark, "the rootfs image " + display + " is empty");
  // The step's work, when the caller did not announce it with the digest:
  // the image's digest, the tree and the copy into the output.
  if (ctx.progress && !image_sha256) ctx.progress->expect((vs.present ? 3 : 1) * src.size());

  if (!vs.present) {
    ctx.write_artifact(ctx.artifacts.rootfs, "rootfs", "rootfs.img", [&](ByteSink& out) {
      emit_image(out, src, src.size(), ctx.progress);
      out.finish();
    });
    return;
  }

  // Parameters. A partial last block is an error unless `pad: true`.
  verity::VerityParams p;
  if (!verity::parse_verity_hash(vs.hash, &p.hash)) fail_at(vs.mark, "unknown hash " + vs.hash);
  p.hash_type = vs.format;
  p.data_block_size = vs.data_block_size;
  p.hash_block_size = vs.hash_block_size;
  p.superblock = vs.superblock;
  if (src.size() % vs.data_block_size && !vs.pad) {
    fail_at(vs.mark, "the rootfs image " + display + " holds " + std::to_string(src.size()) +
                         " bytes, not a multiple of the data block size " +
                         std::to_string(vs.data_block_size) +
                         ": pad the image, or set 'pad: true' to pad it with zeros");
  }
  p.data_blocks = (src.size() + vs.data_block_size - 1) / vs.data_block_size;
  const std::uint64_t data_bytes = p.data_blocks * vs.data_block_size;
  if (ctx.plan.rootfs.verity_layout == VerityLayout::kAppended) {
    p.hash_offset = (data_bytes + vs.hash_block_size - 1) / vs.hash_block_size * vs.hash_block_size;
  }
  // Salt and UUID: derived from the seed, the image digest and the parameters.
  const Bytes image_sha = image_sha256 ? *image_sha256 : stream_sha256(src, ctx.progress);
  const std::string context = "rootfs-sha256=" + to_hex(image_sha) + ",hash=" + vs.hash +
                              ",format=" + std::to_string(vs.format) +
                              ",data_block_size=" + std::to_string(vs.data_block_size) +
                              ",hash_block_size=" + std::to_string(vs.hash_block_size) +
                              ",data_blocks=" + std::to_string(p.data_blocks);
  const std::string& seed = ctx.recipe.seed;
  p.salt = vs.salt ? *vs.salt : verity::derive_salt(seed, as_bytes(context), vs.salt_size);
  p.uuid = verity::derive_uuid(seed, as_bytes(context));

  verity::VerityGeometry g;
  try {
    g = verity::plan_verity(p);
  } catch (const ValueError& e) {
    fail_at(vs.mark, e.message());
  }
  verity::TreeOptions topt;
  topt.pad_tail = vs.pad;
  topt.progress = ctx.progress;
  const verity::VerityTree tree = verity::build_tree(g, src, topt);
  const std::span<const std::uint8_t> root = tree.root_hash;

  nlohmann::json disk_json;
  if (ctx.plan.rootfs.verity_layout == VerityLayout::kSeparate) {
    ctx.write_artifact(ctx.artifacts.rootfs, "rootfs", "rootfs.img", [&](ByteSink& out) {
      emit_image(out, src, data_bytes, ctx.progress);
      out.finish();
    });
    ctx.write_artifact(ctx.artifacts.rootfs_verity, "rootfs-verity", "rootfs.verity",
                       [&](ByteSink& out) {
                         emit_zeros(out, g.area_offset);
                         out.write(tree.hash_area);
                         out.finish();
                       });
  } else if (ctx.plan.rootfs.verity_layout == VerityLayout::kAppended) {
    ctx.write_artifact(ctx.artifacts.rootfs, "rootfs", "rootfs.img", [&](ByteSink& out) {
      emit_image(out, src, data_bytes, ctx.progress);
      emit_zeros(out, g.area_offset - data_bytes);
      out.write(tree.hash_area);
      out.finish();
    });
  } else {
    const bool gpt = ctx.plan.rootfs.partition_table == PartitionTableType::kGpt;
    DiskLayout l;
    try {
      // A one-block image has no hash blocks (the root is that block's
      // digest); its hash partition still gets one zero block, never read.
      l = plan_verity_disk(gpt ? PartitionTable::kGpt : PartitionTable::kMbr, data_bytes,
                           std::max<std::uint64_t>(g.output_size, p.hash_block_size), root, vs.arch,
                           seed);
    } catch (const ValueError& e) {
      fail_at(vs.mark, e.message());
    }
    ctx.write_artifact(ctx.artifacts.disk, "disk", "rootfs.disk", [&](ByteSink& out) {
      Bytes head = disk_head(l), tail = disk_tail(l);
      out.write(head);
      emit_zeros(out, l.partitions[0].offset() - head.size());
      emit_image(out, src, data_bytes, ctx.progress);
      emit_zeros(out, l.partitions[1].offset() - l.partitions[0].offset() - data_bytes);
      out.write(tree.hash_area);
      emit_zeros(out, l.size() - tail.size() - l.partitions[1].offset() - tree.hash_area.size());
      out.write(tail);
      out.finish();
    });
    disk_json["partition_table"] = vs.partition_table;
    disk_json["size"] = l.size();
    if (gpt) {
      disk_json["disk_guid"] = format_guid(l.disk_guid);
    } else {
      disk_json["mbr_signature"] = l.mbr_signature;
    }
    for (std::size_t i = 0; i < 2; ++i) {
      const auto& part = l.partitions[i];
      nlohmann::json j = {{"number", i + 1}, {"offset", part.offset()}, {"size", part.lbas * 512}};
      if (gpt) {
        j["type"] = format_guid(part.spec.type);
        j["uuid"] = format_guid(part.spec.uuid);
        j["name"] = part.spec.name;
      } else {
        j["type"] = part.spec.mbr_type;
        j["bootable"] = part.spec.bootable;
      }
      disk_json["partitions"].push_back(j);
    }
  }

  // Cmdline renderings and variables.
  verity::CmdlineDevices dev{vs.data_device, vs.hash_device, vs.options};
  const std::string salt_text = p.salt.empty() ? "-" : to_hex(p.salt);
  std::string systemd;
  try {
    systemd = verity::render_systemd_cmdline(g, root, dev);
  } catch (const ValueError&) {
    systemd.clear();  // an option systemd cannot express: no systemd rendering
  }
  std::map<std::string, std::string> vars = {
      {"verity.root_hash", to_hex(root)},
      {"verity.salt", salt_text},
      {"verity.data_blocks", std::to_string(p.data_blocks)},
      {"verity.data_block_size", std::to_string(p.data_block_size)},
      {"verity.hash_block_size", std::to_string(p.hash_block_size)},
      {"verity.hash_start", std::to_string(g.hash_start_block)},
      {"verity.data_sectors", std::to_string(g.data_sectors())},
      {"verity.kata_params", verity::kata_verity_params(g, root)},
      {"verity.dm_mod_create", verity::render_kata_cmdline(g, root, dev)},
  };
  // Without a systemd spelling for an option, ${verity.systemd} has no value.
  if (!systemd.empty()) vars["verity.systemd"] = systemd;
  for (const auto& [k, v] : vars) ctx.variables[k] = v;

  nlohmann::json& j = ctx.manifest.section("verity");
  j = nlohmann::json::object();
  j["hash"] = vs.hash;
  j["format"] = p.hash_type;
  j["data_block_size"] = p.data_block_size;
  j["hash_block_size"] = p.hash_block_size;
  j["data_blocks"] = p.data_blocks;
  j["data_sectors"] = g.data_sectors();
  j["salt"] = salt_text;
  j["salt_origin"] = vs.salt ? "recipe" : "derived";
  j["superblock"] = p.superblock;
  if (p.superblock) j["uuid"] = verity::format_uuid(p.uuid);
  j["layout"] = vs.layout;
  j["hash_offset"] = p.hash_offset;
  j["hash_start_block"] = g.hash_start_block;
  j["hash_blocks"] = g.tree_blocks;
  j["hash_size"] = g.output_size - p.hash_offset;
  j["levels"] = g.levels.size();
  j["padded"] = data_bytes != src.size();
  j["root_hash"] = to_hex(root);
  j["data_device"] = vs.data_device;
  j["hash_device"] = vs.hash_device;
  j["options"] = vs.options;
  j["cmdline"] = {{"kata_params", vars["verity.kata_params"]},
                  {"dm_mod_create", vars["verity.dm_mod_create"]},
                  {"systemd", systemd}};
  if (!disk_json.is_null()) j["disk"] = disk_json;
}

}  // namespace mkguest
