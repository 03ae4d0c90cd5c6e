// `mkguest inspect FILE.igvm [--json]`: the fixed header, the platforms, the
// initialization headers, every directive (JSON) or every directive with
// page-data runs folded (text), and the page ranges with their types
// (docs/igvm.md §4).
#include "builder/cli/inspect_igvm.h"

#include <iostream>

#include "base/encoding.h"
#include "base/error.h"
#include "builder/formats/igvm/reader.h"

namespace mkguest::cli {
namespace {

using igvm::Header;

std::string page_kind(const Header& h) {
  std::string k(igvm::page_data_type_name(h.data_type));
  if (h.flags & igvm::kPageFlagUnmeasured) k += ",unmeasured";
  if (h.flags & igvm::kPageFlagShared) k += ",shared";
  if (h.data_type == igvm::kPageNormal && !(h.flags & igvm::kPageFlagUnmeasured))
    k += h.data.empty() ? ",zero" : ",data";
  return k;
}

std::uint64_t page_bytes(const Header& h) {
  return (h.flags & igvm::kPageFlag2M) ? igvm::kPageSize2M : igvm::kPageSize;
}

nlohmann::json header_json(const Header& h) {
  nlohmann::json j;
  j["offset"] = hex_offset(h.offset);
  j["type"] = h.known ? std::string(igvm::type_name(h.type)) : "unknown";
  j["type_value"] = hex_offset(h.type);
  j["length"] = h.length;
  if (h.optional) j["optional"] = true;
  if (!h.known) {
    j["skipped"] = true;
    return j;
  }
  if (h.has_mask) j["compatibility_mask"] = hex_offset(h.compatibility_mask);
  switch (h.type) {
    case igvm::kVhtSupportedPlatform:
      j["platform"] = igvm::platform_name(h.platform_type);
      j["platform_version"] = h.platform_version;
      j["highest_vtl"] = h.highest_vtl;
      j["shared_gpa_boundary"] = hex_offset(h.shared_gpa_boundary);
      break;
    case igvm::kVhtGuestPolicy:
      j["policy"] = hex_offset(h.policy);
      break;
    case igvm::kVhtPageData:
      j["gpa"] = hex_offset(h.gpa);
      j["size"] = page_bytes(h);
      j["data_type"] = igvm::page_data_type_name(h.data_type);
      j["flags"] = hex_offset(h.flags);
      j["page"] = page_kind(h);
      if (!h.data.empty()) j["file_offset"] = hex_offset(h.file_offset);
      break;
    case igvm::kVhtParameterArea:
      j["parameter_area_index"] = h.parameter_area_index;
      j["size"] = h.size;
      if (!h.data.empty()) j["file_offset"] = hex_offset(h.file_offset);
      break;
    case igvm::kVhtParameterInsert:
      j["gpa"] = hex_offset(h.gpa);
      j["parameter_area_index"] = h.parameter_area_index;
      j["size"] = h.size;
      break;
    case igvm::kVhtVpContext:
      j["gpa"] = hex_offset(h.gpa);
      j["vp_index"] = h.vp_index;
      j["platform"] = igvm::platform_name(h.platform_type);
      j["file_offset"] = hex_offset(h.file_offset);
      j["size"] = h.data.size();
      break;
    case igvm::kVhtRequiredMemory:
    case igvm::kVhtErrorRange:
      j["gpa"] = hex_offset(h.gpa);
      j["size"] = h.size;
      if (h.type == igvm::kVhtRequiredMemory) j["vtl2_protectable"] = (h.flags & 1) != 0;
      break;
    case igvm::kVhtSnpIdBlock:
      j["ld"] = to_hex(h.body.subspan(8, 48));
      j["author_key_enabled"] = h.body[4] != 0;
      break;
    case igvm::kVhtRelocatableRegion:
    case igvm::kVhtPageTableRelocation:
      j["gpa"] = hex_offset(h.gpa);
      j["size"] = h.size;
      j["vp_index"] = h.vp_index;
      j["vtl"] = h.vtl;
      break;
    default:
      if (h.section == igvm::Section::kDirective && h.type >= igvm::kVhtVpCount) {
        j["parameter_area_index"] = h.parameter_area_index;
        j["byte_offset"] = h.byte_offset;
      }
      break;
  }
  return j;
}

}  // namespace

bool looks_like_igvm(std::span<const std::uint8_t> head) {
  return head.size() >= 4 && head[0] == 'I' && head[1] == 'G' && head[2] == 'V' && head[3] == 'M';
}

nlohmann::json igvm_json(std::span<const std::uint8_t> bytes, const std::string& file) {
  const igvm::File f = igvm::parse_igvm(bytes, file);
  nlohmann::json j;
  j["format"] = "IGVM";
  j["revision"] = f.revision;
  j["architecture"] = f.architecture == igvm::Architecture::kX64 ? "x64" : "aarch64";
  j["size"] = bytes.size();
  j["checksum"] = hex_offset(f.checksum);
  j["variable_header"] = {{"offset", hex_offset(f.variable_header_offset)},
                          {"size", f.variable_header_size}};
  for (const char* k : {"platforms", "initializations", "directives"})
    j[k] = nlohmann::json::array();
  for (const auto& h : f.platforms) j["platforms"].push_back(header_json(h));
  for (const auto& h : f.initializations) j["initializations"].push_back(header_json(h));
  for (const auto& h : f.directives) j["directives"].push_back(header_json(h));
  // Runs of page data alike (same mask, type and flags, contiguous GPAs).
  nlohmann::json runs = nlohmann::json::array();
  const Header* last = nullptr;
  std::uint64_t next = 0;
  for (const auto& h : f.directives) {
    if (!h.known || h.type != igvm::kVhtPageData) continue;
    if (last && h.gpa == next && h.compatibility_mask == last->compatibility_mask &&
        page_kind(h) == page_kind(*last)) {
      auto& r = runs.back();
      r["size"] = r["size"].get<std::uint64_t>() + page_bytes(h);
      r["pages"] = r["pages"].get<std::uint64_t>() + page_bytes(h) / igvm::kPageSize;
    } else {
      runs.push_back({{"gpa", hex_offset(h.gpa)},
                      {"size", page_bytes(h)},
                      {"pages", page_bytes(h) / igvm::kPageSize},
                      {"compatibility_mask", hex_offset(h.compatibility_mask)},
                      {"page", page_kind(h)}});
    }
    last = &h;
    next = h.gpa + page_bytes(h);
  }
  j["page_ranges"] = runs;
  return j;
}

void inspect_igvm(std::span<const std::uint8_t> bytes, const std::string& file, bool json) {
  const nlohmann::json j = igvm_json(bytes, file);
  if (json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << file << ": IGVM revision " << j["revision"] << " ("
            << j["architecture"].get<std::string>() << "), " << j["size"] << " bytes, "
            << j["directives"].size() << " directives\n";
  for (const auto& p : j["platforms"])
    std::cout << "  platform " << p["platform"].get<std::string>() << ": mask "
              << p["compatibility_mask"].get<std::string>() << ", highest VTL " << p["highest_vtl"]
              << ", shared GPA boundary " << p["shared_gpa_boundary"].get<std::string>() << "\n";
  auto line = [](const nlohmann::json& h) {
    std::cout << "  " << h["offset"].get<std::string>() << " " << h["type"].get<std::string>();
    for (const auto& [k, v] : h.items()) {
      if (k == "offset" || k == "type" || k == "type_value" || k == "length") continue;
      std::cout << " " << k << "=" << (v.is_string() ? v.get<std::string>() : v.dump());
    }
    std::cout << "\n";
  };
  for (const auto& h : j["initializations"]) line(h);
  // Every directive but page data, which the page ranges list folded.
  for (const auto& h : j["directives"])
    if (h["type"] != "IGVM_VHT_PAGE_DATA") line(h);
  std::cout << "  page ranges:\n";
  for (const auto& r : j["page_ranges"])
    std::cout << "    gpa " << r["gpa"].get<std::string>() << " +"
              << hex_offset(r["size"].get<std::uint64_t>()) << " (" << r["pages"] << " pages) mask "
              << r["compatibility_mask"].get<std::string>() << ": " << r["page"].get<std::string>()
              << "\n";
}

}  // namespace mkguest::cli
