// JSON form of a TDX prediction (see tdx_json.h).
#include "builder/measure/tdx_json.h"

#include "base/error.h"

namespace mkguest::tdx {

nlohmann::ordered_json prediction_json(const Prediction& p, const std::string& profile_name) {
  nlohmann::ordered_json j;
  j["mr_td"] = {{"single-pass", to_hex(p.mrtd_single_pass)}, {"two-pass", to_hex(p.mrtd_two_pass)}};
  j["profile"] = profile_name;
  j["rtmr_0"] =
      p.rtmr0_complete ? nlohmann::ordered_json(to_hex(p.rtmr[0])) : nlohmann::ordered_json();
  j["rtmr_1"] = to_hex(p.rtmr[1]);
  j["rtmr_2"] = to_hex(p.rtmr[2]);
  j["rtmr_3"] = "runtime, not predicted";
  j["rtmr_0_complete"] = p.rtmr0_complete;
  auto& ev = j["events"] = nlohmann::ordered_json::array();
  for (const auto& e : p.events)
    ev.push_back({{"rtmr", e.rtmr},
                  {"type", event_type_name(e.type)},
                  {"type_code", e.type},
                  {"digest", to_hex(e.digest)},
                  {"description", e.description}});
  j["trustee"] = {{"tdvfkernel", to_hex(p.kernel_digest)},
                  {"tdvfkernelparams", to_hex(p.kernel_params_digest)}};
  j["notes"] = p.notes;
  return j;
}

std::vector<Event> events_from_json(const nlohmann::json& doc, const std::string& source) {
  auto bad = [&](const std::string& where, const std::string& msg) -> InputError {
    return InputError(source, where, msg);
  };
  if (!doc.is_object() || !doc.contains("events") || !doc["events"].is_array())
    throw file_error(source, "no \"events\" list (expected `mkguest measure tdx --json` output)");
  std::vector<Event> out;
  std::size_t i = 0;
  for (const auto& e : doc["events"]) {
    const std::string where = "events[" + std::to_string(i++) + "]";
    if (!e.is_object() || !e.contains("rtmr") || !e.contains("type_code") || !e.contains("digest"))
      throw bad(where, "event needs rtmr, type_code and digest");
    if (!e["rtmr"].is_number_integer() || e["rtmr"].get<int>() < 0 || e["rtmr"].get<int>() > 3)
      throw bad(where, "rtmr must be 0..3");
    if (!e["type_code"].is_number_unsigned()) throw bad(where, "type_code must be a number");
    Event x;
    x.rtmr = e["rtmr"].get<int>();
    x.type = e["type_code"].get<std::uint32_t>();
    if (!e["digest"].is_string() || !from_hex(e["digest"].get<std::string>(), &x.digest) ||
        x.digest.size() != 48)
      throw bad(where, "digest must be 96 hex digits (SHA-384)");
    if (e.contains("description") && e["description"].is_string())
      x.description = e["description"].get<std::string>();
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace mkguest::tdx
