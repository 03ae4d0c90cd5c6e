// JSON form of a TDX prediction (the `measure tdx --json` output, the
// manifest's `tdx` section and the `verify-eventlog --expected` input):
//   {"mr_td": {"single-pass": HEX, "two-pass": HEX}, "profile": NAME,
//    "rtmr_0": HEX|null, "rtmr_1": HEX, "rtmr_2": HEX,
//    "rtmr_3": "runtime, not predicted", "rtmr_0_complete": BOOL,
//    "events": [{"rtmr": N, "type": "EV_...", "type_code": N, "digest": HEX,
//                "description": TEXT}], "trustee": {"tdvfkernel": HEX,
//    "tdvfkernelparams": HEX}, "notes": [TEXT]}
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "builder/measure/tdx.h"
#include "firmware/tdx_events.h"

namespace mkguest::tdx {

nlohmann::ordered_json prediction_json(const Prediction& p, const std::string& profile_name);
// Reads the "events" list back (strictly); `source` names the document in errors.
std::vector<Event> events_from_json(const nlohmann::json& doc, const std::string& source);

}  // namespace mkguest::tdx
