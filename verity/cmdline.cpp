// Verity cmdline renderings and the dm-mod.create parser (spec docs/specs/verity-rootfs.md §2).
#include "verity/cmdline.h"

#include <charconv>

#include "base/error.h"

namespace mkguest::verity {

namespace {

std::string salt_text(std::span<const std::uint8_t> salt) {
  return salt.empty() ? std::string("-") : to_hex(salt);
}

std::string systemd_option(const std::string& dm_word) {
  static const char* const kKnown[] = {"ignore_corruption", "restart_on_corruption",
                                       "panic_on_corruption", "ignore_zero_blocks",
                                       "check_at_most_once"};
  for (const char* k : kKnown) {
    if (dm_word == k) {
      std::string s = dm_word;
      for (char& c : s) c = c == '_' ? '-' : c;
      return s;
    }
  }
  throw ValueError("verity option '" + dm_word + "' has no systemd-veritysetup equivalent");
}

[[noreturn]] void parse_fail(std::size_t col, const std::string& msg) {
  throw InputError("dm-mod.create", std::to_string(col + 1), msg);
}

}  // namespace

std::string kata_verity_params(const VerityGeometry& g, std::span<const std::uint8_t> root) {
  const VerityParams& p = g.params;
  return "root_hash=" + to_hex(root) + ",salt=" + salt_text(p.salt) +
         ",data_blocks=" + std::to_string(p.data_blocks) +
         ",data_block_size=" + std::to_string(p.data_block_size) +
         ",hash_block_size=" + std::to_string(p.hash_block_size);
}

DmVerityTable dm_verity_table(const VerityGeometry& g, std::span<const std::uint8_t> root,
                              const CmdlineDevices& devices) {
  const VerityParams& p = g.params;
  DmVerityTable t;
  t.sectors = g.data_sectors();
  t.version = p.hash_type;
  t.data_device = devices.data_device;
  t.hash_device = devices.hash_device;
  t.data_block_size = p.data_block_size;
  t.hash_block_size = p.hash_block_size;
  t.data_blocks = p.data_blocks;
  t.hash_start_block = g.hash_start_block;
  t.algorithm = std::string(hash_name(p.hash));
  t.root_hash.assign(root.begin(), root.end());
  t.salt = p.salt;
  t.options = devices.options;
  for (const auto& d : {t.data_device, t.hash_device}) {
    if (d.empty() || d.find_first_of(" \t\",;") != std::string::npos) {
      throw ValueError("verity device name '" + d + "' is empty or has a space, quote, ',' or ';'");
    }
  }
  for (const auto& o : t.options) {
    if (o.empty() || o.find_first_of(" \t\",;") != std::string::npos) {
      throw ValueError("verity option '" + o + "' is empty or has a space, quote, ',' or ';'");
    }
  }
  return t;
}

std::string render_verity_target(const DmVerityTable& t) {
  std::string s = std::to_string(t.start_sector) + " " + std::to_string(t.sectors) + " verity " +
                  std::to_string(t.version) + " " + t.data_device + " " + t.hash_device + " " +
                  std::to_string(t.data_block_size) + " " + std::to_string(t.hash_block_size) +
                  " " + std::to_string(t.data_blocks) + " " + std::to_string(t.hash_start_block) +
                  " " + t.algorithm + " " + to_hex(t.root_hash) + " " + salt_text(t.salt);
  if (!t.options.empty()) {
    s += " " + std::to_string(t.options.size());
    for (const auto& o : t.options) s += " " + o;
  }
  return s;
}

std::string render_dm_mod_create(const DmVerityTable& t) {
  return "dm-mod.create=\"" + t.name + "," + t.uuid + "," + t.minor + "," + t.flags + "," +
         render_verity_target(t) + "\"";
}

std::string render_kata_cmdline(const VerityGeometry& g, std::span<const std::uint8_t> root,
                                const CmdlineDevices& devices) {
  return render_dm_mod_create(dm_verity_table(g, root, devices)) + " root=/dev/dm-0";
}

std::string render_systemd_cmdline(const VerityGeometry& g, std::span<const std::uint8_t> root,
                                   const CmdlineDevices& devices) {
  const VerityParams& p = g.params;
  dm_verity_table(g, root, devices);  // validates device names and options
  std::string opts;
  auto add = [&](const std::string& o) { opts += (opts.empty() ? "" : ",") + o; };
  if (p.superblock) {
    add("superblock=yes");
  } else {
    add("superblock=no");
    add("format=" + std::to_string(p.hash_type));
    add("data-block-size=" + std::to_string(p.data_block_size));
    add("hash-block-size=" + std::to_string(p.hash_block_size));
    add("data-blocks=" + std::to_string(p.data_blocks));
    add("hash=" + std::string(hash_name(p.hash)));
    if (!p.salt.empty()) add("salt=" + to_hex(p.salt));
  }
  if (p.hash_offset) add("hash-offset=" + std::to_string(p.hash_offset));
  for (const auto& o : devices.options) add(systemd_option(o));
  return "roothash=" + to_hex(root) + " systemd.verity_root_data=" + devices.data_device +
         " systemd.verity_root_hash=" + devices.hash_device +
         " systemd.verity_root_options=" + opts;
}

DmVerityTable parse_dm_mod_create(std::string_view text) {
  std::size_t base = 0;
  constexpr std::string_view kKey = "dm-mod.create=";
  if (text.substr(0, kKey.size()) == kKey) {
    base = kKey.size();
    text.remove_prefix(kKey.size());
  }
  if (!text.empty() && text.front() == '"') {
    if (text.size() < 2 || text.back() != '"') parse_fail(base, "unterminated quote");
    text = text.substr(1, text.size() - 2);
    base += 1;
  }
  if (text.find(';') != std::string_view::npos) parse_fail(base, "more than one device");
  DmVerityTable t;
  std::string_view parts[4];
  std::size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos)
      parse_fail(base + pos, "expected name,uuid,minor,flags,table");
    parts[i] = text.substr(pos, comma - pos);
    pos = comma + 1;
  }
  std::string_view table = text.substr(pos);
  if (table.find(',') != std::string_view::npos) parse_fail(base + pos, "more than one table");
  t.name = parts[0];
  t.uuid = parts[1];
  t.minor = parts[2];
  t.flags = parts[3];
  if (t.flags != "ro" && t.flags != "rw") parse_fail(base, "flags must be ro or rw");

  std::vector<std::pair<std::string_view, std::size_t>> words;
  for (std::size_t i = 0; i < table.size();) {
    if (table[i] == ' ') {
      if (i == 0 || table[i - 1] == ' ') parse_fail(base + pos + i, "extra space");
      ++i;
      continue;
    }
    std::size_t end = table.find(' ', i);
    if (end == std::string_view::npos) end = table.size();
    words.emplace_back(table.substr(i, end - i), base + pos + i);
    i = end;
  }
  if (!table.empty() && table.back() == ' ')
    parse_fail(base + pos + table.size() - 1, "trailing space");
  if (words.size() < 13) parse_fail(base + pos, "a verity table has at least 13 words");
  auto num = [&](std::size_t i, auto* out) {
    auto [w, col] = words[i];
    auto res = std::from_chars(w.data(), w.data() + w.size(), *out);
    if (w.empty() || res.ec != std::errc() || res.ptr != w.data() + w.size() ||
        (w.size() > 1 && w[0] == '0')) {
      parse_fail(col, "expected a decimal number, got '" + std::string(w) + "'");
    }
  };
  auto hex = [&](std::size_t i, Bytes* out, bool dash_ok) {
    auto [w, col] = words[i];
    if (dash_ok && w == "-") {
      out->clear();
      return;
    }
    if (!from_hex(w, out) || out->empty())
      parse_fail(col, "expected hex, got '" + std::string(w) + "'");
  };
  num(0, &t.start_sector);
  num(1, &t.sectors);
  if (words[2].first != "verity") parse_fail(words[2].second, "not a verity target");
  num(3, &t.version);
  if (t.version > 1) parse_fail(words[3].second, "verity version must be 0 or 1");
  t.data_device = words[4].first;
  t.hash_device = words[5].first;
  num(6, &t.data_block_size);
  num(7, &t.hash_block_size);
  num(8, &t.data_blocks);
  num(9, &t.hash_start_block);
  t.algorithm = words[10].first;
  hex(11, &t.root_hash, false);
  hex(12, &t.salt, true);
  if (words.size() > 13) {
    std::uint64_t count = 0;
    num(13, &count);
    if (count != words.size() - 14) {
      parse_fail(words[13].second, "optional argument count " + std::to_string(count) + " but " +
                                       std::to_string(words.size() - 14) + " follow");
    }
    for (std::size_t i = 14; i < words.size(); ++i) t.options.emplace_back(words[i].first);
  }
  const std::uint64_t per_block = t.data_block_size / 512;
  if (t.data_block_size % 512 || per_block == 0 || t.data_blocks > UINT64_MAX / per_block ||
      t.sectors != t.data_blocks * per_block) {
    parse_fail(words[1].second, "the sector count does not match data_blocks · data_block_size");
  }
  return t;
}

}  // namespace mkguest::verity
