// Verification of an output directory against its manifest; see verify.h.
#include "builder/verify/verify.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "base/error.h"
#include "base/file.h"
#include "builder/attest/se_hdr.h"
#include "builder/formats/se/reader.h"
#include "verity/geometry.h"
#include "verity/verity_file.h"

namespace mkguest::attest {

namespace fs = std::filesystem;

namespace {

struct FileDigests {
  bool exists = false;
  std::uint64_t size = 0;
  std::string sha256, sha384;
  std::string error;
};

// One digest of one file, streamed from a read-only mapping in 1 MiB steps.
std::string hash_one(const fs::path& p, HashAlg alg, std::uint64_t* size) {
  MappedFile f(p);
  *size = f.size();
  Hasher h(alg);
  auto bytes = f.bytes();
  constexpr std::size_t kChunk = 1 << 20;
  for (std::size_t off = 0; off < bytes.size(); off += kChunk)
    h.update(bytes.subspan(off, std::min(kChunk, bytes.size() - off)));
  return to_hex(h.finish());
}

// Digests of every file: each (file, algorithm) pair is a task, taken by one
// worker per core through an atomic counter, so that even a single large
// output keeps two cores busy (SHA-256 and SHA-384 at once).
std::vector<FileDigests> hash_files(const std::vector<fs::path>& paths) {
  std::vector<FileDigests> d(paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    std::error_code ec;
    d[i].exists = fs::is_regular_file(paths[i], ec);
  }
  std::vector<std::string> errors(paths.size() * 2);
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t t; (t = next.fetch_add(1)) < paths.size() * 2;) {
      std::size_t i = t / 2;
      if (!d[i].exists) continue;
      try {
        std::uint64_t size = 0;
        if (t % 2 == 0) {
          d[i].sha256 = hash_one(paths[i], HashAlg::kSha256, &size);
          d[i].size = size;
        } else {
          d[i].sha384 = hash_one(paths[i], HashAlg::kSha384, &size);
        }
      } catch (const Error& e) {
        errors[t] = e.what();
      }
    }
  };
  unsigned n = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), 8));
  std::vector<std::thread> pool;
  for (unsigned k = 1; k < n; ++k) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  for (std::size_t t = 0; t < errors.size(); ++t)
    if (!errors[t].empty() && d[t / 2].error.empty()) d[t / 2].error = errors[t];
  return d;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> list_tree(const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->is_symlink() || it->is_regular_file())
      out.push_back(fs::relative(it->path(), root).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool same_file(const fs::path& a, const fs::path& b, std::string* why) {
  if (fs::is_symlink(a) || fs::is_symlink(b)) {
    if (!fs::is_symlink(a) || !fs::is_symlink(b)) return *why = "one is a symlink", false;
    if (fs::read_symlink(a) != fs::read_symlink(b)) return *why = "symlink targets differ", false;
    return true;
  }
  MappedFile fa(a), fb(b);
  if (fa.size() != fb.size()) {
    *why = "size " + std::to_string(fa.size()) + " vs " + std::to_string(fb.size());
    return false;
  }
  auto x = fa.bytes(), y = fb.bytes();
  auto m = std::mismatch(x.begin(), x.end(), y.begin());
  if (m.first != x.end()) {
    *why = "first difference at " + hex_offset(static_cast<std::uint64_t>(m.first - x.begin()));
    return false;
  }
  return true;
}

}  // namespace

fs::path VerifyContext::output_path(const std::string& file) const {
  fs::path rel(file);
  bool bad = file.empty() || rel.is_absolute();
  for (const auto& part : rel)
    if (part == "..") bad = true;
  if (bad) throw file_error(manifest_source, "output file name '" + file + "' escapes OUTDIR");
  // Nothing is read through a symlink or from a special file: a build writes
  // only directories and regular files into OUTDIR.
  fs::path p = outdir;
  std::error_code ec;
  for (const auto& part : rel) {
    p /= part;
    const fs::file_status st = fs::symlink_status(p, ec);
    if (!fs::exists(st)) break;  // a missing output is a finding of its check
    if (fs::is_symlink(st))
      throw file_error(p.string(), "is a symlink: verify reads no output through a symlink");
    if (p != outdir / rel && !fs::is_directory(st))
      throw file_error(p.string(), "is not a directory");
    if (p == outdir / rel && !fs::is_regular_file(st))
      throw file_error(p.string(), "is not a regular file");
  }
  return p;
}

std::vector<VerifyCheck> default_verify_checks() {
  return {
      {"outputs", "every output's size, sha256 and sha384 match the manifest", check_outputs},
      {"se-header",
       "the SE image's header tag and host key hashes match the manifest; PLD, ALD, TLD and NEP "
       "recomputed from the image",
       check_se_header},
      {"verity", "every dm-verity volume verifies against its root hash (libcryptsetup)",
       check_verity},
      {"snp", "every SNP launch digest re-derived from the outputs and the firmware input",
       check_snp},
      {"tdx",
       "MRTD, RTMR0-2 and every expected TDX event re-derived from the outputs and the firmware "
       "input",
       check_tdx},
      {"uki", "the UKI's sections, Authenticode digests and signatures, and its PCRs derived again",
       check_uki},
      {"initdata",
       "the init-data digest, HOST_DATA, MRCONFIGID, PCR 8 and annotation derived again from "
       "initdata.toml",
       check_initdata},
      {"igvm",
       "every IGVM file of measurements.snp.igvm measured again, and written again from the "
       "firmware input and the outputs",
       check_igvm},
  };
}

VerifyReport run_verify(const VerifyContext& ctx, const std::vector<VerifyCheck>& checks) {
  VerifyReport r;
  for (const auto& c : checks) {
    std::vector<Finding> f;
    bool applied = c.run(ctx, &f);
    (applied ? r.ran : r.skipped).push_back(c.name);
    for (auto& x : f) {
      if (x.check.empty()) x.check = c.name;
      r.findings.push_back(std::move(x));
    }
  }
  return r;
}

bool check_outputs(const VerifyContext& ctx, std::vector<Finding>* findings) {
  const json* outs = find(ctx.manifest, {"outputs"});
  if (!outs || !outs->is_array() || outs->empty()) {
    findings->push_back({"outputs", "manifest", "the manifest lists no outputs"});
    return true;
  }
  std::vector<const json*> entries;
  std::vector<fs::path> paths;
  for (const auto& o : *outs) {
    entries.push_back(&o);
    paths.push_back(ctx.output_path(find_string(o, {"file"})));
  }
  std::vector<FileDigests> digests = hash_files(paths);

  for (std::size_t i = 0; i < entries.size(); ++i) {
    const json& o = *entries[i];
    std::string name = find_string(o, {"file"});
    const FileDigests& d = digests[i];
    if (!d.exists) {
      findings->push_back({"outputs", name, "missing from the output directory"});
      continue;
    }
    if (!d.error.empty()) {
      findings->push_back({"outputs", name, d.error});
      continue;
    }
    if (const json* size = find(o, {"size"});
        size && size->is_number_unsigned() && size->get<std::uint64_t>() != d.size)
      findings->push_back({"outputs", name,
                           "size differs: manifest " + std::to_string(size->get<std::uint64_t>()) +
                               ", file " + std::to_string(d.size)});
    bool any = false;
    for (auto [alg, actual] :
         {std::pair<const char*, const std::string*>{"sha256", &d.sha256}, {"sha384", &d.sha384}}) {
      std::string want = lower(find_string(o, {alg}));
      if (want.empty()) continue;
      any = true;
      if (want != *actual)
        findings->push_back(
            {"outputs", name,
             std::string(alg) + " differs: manifest " + want + ", file " + *actual});
    }
    if (!any) findings->push_back({"outputs", name, "the manifest gives no sha256 or sha384"});
  }
  return true;
}

bool check_se_header(const VerifyContext& ctx, std::vector<Finding>* findings) {
  const json* se = find(ctx.manifest, {"measurements", "se"});
  if (!se) return false;
  std::string want_tag = lower(find_string(*se, {"tag"}));
  std::vector<std::string> want_phkh;
  if (const json* p = find(*se, {"image_phkh"})) want_phkh = collect_strings(*p);
  const json* outs = find(ctx.manifest, {"outputs"});
  bool found = false;
  if (outs && outs->is_array()) {
    for (const auto& o : *outs) {
      std::string name = find_string(o, {"file"});
      fs::path p = ctx.output_path(name);
      std::error_code ec;
      if (!fs::is_regular_file(p, ec)) continue;  // reported by "outputs"
      MappedFile f(p);
      SeHeader h;
      try {
        h = find_se_header(f.bytes(), name);
      } catch (const se::NoSeHeaderError&) {
        continue;  // only a file that starts like an SE header, or is an SE image, matters here
      } catch (const InputError& e) {
        findings->push_back({"se-header", name, e.message()});
        continue;
      }
      found = true;
      if (h.offset >= 0x14000) {
        // An image: PLD, ALD, TLD and NEP re-derived from its pages and IPIB.
        try {
          const se::Image img = se::parse_image(f.bytes(), name);
          const char* names[] = {"pld", "ald", "tld"};
          const Bytes* got[] = {&img.pld, &img.ald, &img.tld};
          const Bytes* hdr[] = {&img.header.pld, &img.header.ald, &img.header.tld};
          for (int i = 0; i < 3; ++i) {
            if (*got[i] != *hdr[i])
              findings->push_back(
                  {"se-header", name,
                   std::string(names[i]) + " recomputed from the image differs from its header"});
            const std::string want = lower(find_string(*se, {names[i]}));
            if (!want.empty() && want != to_hex(*hdr[i]))
              findings->push_back({"se-header", name,
                                   std::string(names[i]) + " differs: manifest " + want +
                                       ", header " + to_hex(*hdr[i])});
          }
          if (img.nep != img.header.nep)
            findings->push_back({"se-header", name, "nep recomputed from the image differs"});
        } catch (const InputError& e) {
          findings->push_back({"se-header", name, e.message()});
        }
      }
      if (!want_tag.empty() && h.tag != want_tag)
        findings->push_back(
            {"se-header", name, "se.tag differs: manifest " + want_tag + ", header " + h.tag});
      if (!want_phkh.empty() && h.phkh != want_phkh)
        findings->push_back({"se-header", name, "image_phkh (host key hashes) differ"});
    }
  }
  if (!found)
    findings->push_back(
        {"se-header", "se", "the manifest has SE measurements but no output holds an SE header"});
  return true;
}

namespace {

std::uint64_t number(const json& v, const char* key, std::uint64_t fallback) {
  const json* n = find(v, {key});
  return n && n->is_number_unsigned() ? n->get<std::uint64_t>() : fallback;
}

std::string output_with_role(const json& manifest, const std::string& role) {
  if (const json* outs = find(manifest, {"outputs"}); outs && outs->is_array())
    for (const auto& o : *outs)
      if (find_string(o, {"role"}) == role) return find_string(o, {"file"});
  return {};
}

// One volume. The build's own section (docs/manifest.md "verity") names the
// algorithm "hash" and the hash type "format", and its files are the outputs
// with roles rootfs / rootfs-verity; other producers may name the files.
void verify_volume(const VerifyContext& ctx, const json& vol, std::vector<Finding>* findings) {
  std::string layout = find_string(vol, {"layout"}, "separate");
  std::string data = find_string(vol, {"data_file"}, find_string(vol, {"data"}));
  if (data.empty()) data = output_with_role(ctx.manifest, "rootfs");
  std::string hash = find_string(vol, {"hash_file"});
  if (hash.empty())
    hash = layout == "separate" ? output_with_role(ctx.manifest, "rootfs-verity") : data;
  std::string name = data.empty() ? "verity" : data;
  std::string root = lower(find_string(vol, {"root_hash"}));
  Bytes root_bytes;
  if (data.empty() || hash.empty() || root.empty() || !from_hex(root, &root_bytes)) {
    findings->push_back(
        {"verity", name, "no data/hash output or no hex root_hash in the manifest"});
    return;
  }
  verity::VerityParams params;
  params.hash_offset = number(vol, "hash_offset", 0);
  const json* sb = find(vol, {"superblock"});
  params.superblock = !sb || !sb->is_boolean() || sb->get<bool>();
  if (!params.superblock) {
    std::string alg = find_string(vol, {"hash_algorithm"}, find_string(vol, {"hash"}, "sha256"));
    if (!verity::parse_verity_hash(alg, &params.hash)) {
      findings->push_back({"verity", name, "unknown hash algorithm " + alg});
      return;
    }
    std::string salt = find_string(vol, {"salt"});
    if (salt != "-") from_hex(salt, &params.salt);
    params.hash_type =
        static_cast<std::uint32_t>(number(vol, "hash_type", number(vol, "format", 1)));
    params.data_block_size = static_cast<std::uint32_t>(number(vol, "data_block_size", 4096));
    params.hash_block_size = static_cast<std::uint32_t>(number(vol, "hash_block_size", 4096));
    params.data_blocks = number(vol, "data_blocks", 0);
  }
  std::filesystem::path data_path = ctx.output_path(data);
  std::filesystem::path hash_path = ctx.output_path(hash);
  std::error_code ec;
  if (!fs::is_regular_file(data_path, ec) || !fs::is_regular_file(hash_path, ec)) {
    findings->push_back({"verity", name, "data or hash file missing"});
    return;
  }
  verity::VerifyResult r;
  try {
    r = verity::verify_files(data_path, hash_path, params, root_bytes);
  } catch (const Error& e) {
    // Fields of a (mutated or hand-edited) manifest that no verity volume can
    // have, or that libcryptsetup rejects: a finding naming the fields, not
    // an error of verify itself.
    findings->push_back({"verity", name,
                         "the manifest's verity fields (" +
                             std::string(params.superblock ? "hash_offset, the superblock"
                                                           : "hash_algorithm, salt, hash_type, "
                                                             "data_block_size, hash_block_size, "
                                                             "data_blocks, hash_offset") +
                             ") do not describe a volume: " + e.message()});
    return;
  }
  if (!r.ok)
    findings->push_back({"verity", name,
                         "does not verify against root hash " + root +
                             (r.first_bad.empty() ? "" : ": first bad " + r.first_bad)});
}

bool is_checkable(const json& vol) {
  // A partitioned disk holds data and hash at partition offsets, which the
  // file-based check does not address: the outputs check covers its bytes.
  return vol.is_object() && find(vol, {"root_hash"}) &&
         find_string(vol, {"layout"}) != "partitioned";
}

}  // namespace

bool check_verity(const VerifyContext& ctx, std::vector<Finding>* findings) {
  const json* v = find(ctx.manifest, {"verity"});
  if (!v || v->empty()) return false;
  bool any = false;
  if (v->is_object() && find(*v, {"root_hash"})) {
    if (!is_checkable(*v)) return false;
    verify_volume(ctx, *v, findings);
    return true;
  }
  if (v->is_object() || v->is_array())
    for (const auto& [key, vol] : v->items())
      if (is_checkable(vol)) {
        verify_volume(ctx, vol, findings);
        any = true;
      }
  return any;
}

std::vector<Finding> compare_trees(const fs::path& expected, const fs::path& actual) {
  std::vector<Finding> f;
  auto a = list_tree(expected), b = list_tree(actual);
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i] < b[j])) {
      f.push_back({"rebuild", a[i++], "missing from the rebuild"});
    } else if (i == a.size() || b[j] < a[i]) {
      f.push_back({"rebuild", b[j++], "only in the rebuild"});
    } else {
      std::string why;
      if (!same_file(expected / a[i], actual / b[j], &why))
        f.push_back({"rebuild", a[i], "differs: " + why});
      ++i, ++j;
    }
  }
  return f;
}

}  // namespace mkguest::attest
