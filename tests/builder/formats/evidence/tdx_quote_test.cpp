// The TDX quote v4 reader against a real quote from Trustee's test data, whose
// fields Trustee's own parser decoded (tests/vectors/tdx_quote/README.md), and
// against edits of it that must be refused at their offset.
#include <catch2/catch.hpp>
#include <string>

#include "base/encoding.h"
#include "base/error.h"
#include "base/file.h"
#include "builder/formats/evidence/tdx_quote.h"
#include "tests/test_util.h"

namespace mkguest {
namespace {

using evidence::parse_tdx_quote;

Bytes real_quote() {
  return read_file(test::source_dir() / "tests/vectors/tdx_quote/quote-v4.dat");
}

std::string error_place(const Bytes& bytes) {
  try {
    parse_tdx_quote(bytes, "q.dat");
  } catch (const InputError& e) {
    CHECK(e.source() == "q.dat");
    return e.place();
  }
  return "no error";
}

std::string zeros(std::size_t n) { return std::string(2 * n, '0'); }

TEST_CASE("tdx quote: a real v4 quote, as Trustee decodes it", "[evidence]") {
  const auto q = parse_tdx_quote(real_quote(), "q.dat");
  CHECK(q.version == 4);
  CHECK(q.att_key_type == 2);
  CHECK(q.tee_type == 0x81);
  CHECK(to_hex(q.qe_vendor_id) == "939a7233f79c4ca9940a0db3957f0607");
  CHECK(to_hex(q.user_data) == "d099bfec0a477aa85a605dceabf2b10800000000");
  CHECK(to_hex(q.tee_tcb_svn) == "03000500000000000000000000000000");
  CHECK(to_hex(q.mrseam) ==
        "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a53"
        "63c656");
  CHECK(to_hex(q.mrsignerseam) == zeros(48));
  CHECK(q.seam_attributes == 0);
  CHECK(q.td_attributes == 0x10000001ull);  // "0100001000000000": DEBUG, SEPT_VE_DISABLE
  CHECK(q.xfam == 0x642e7ull);              // "e742060000000000"
  CHECK(to_hex(q.mrtd) ==
        "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9c"
        "e5f031");
  CHECK(to_hex(q.mrconfigid) == zeros(48));
  CHECK(to_hex(q.mrowner) == zeros(48));
  CHECK(to_hex(q.mrownerconfig) == zeros(48));
  CHECK(to_hex(q.rtmr[0]) ==
        "e940da7c2712d2790e2961e00484f4fa8e6f9eed71361655ae22699476b14f9e63867eb41edd4b480fef0c59f4"
        "96b288");
  CHECK(to_hex(q.rtmr[1]) ==
        "559cfcf42716ed6c40a48a73d5acb7da255435012f0a9f00fbe8c1c57612ede486a5684c4c9ff3ddf52315fcdc"
        "a3a596");
  CHECK(to_hex(q.rtmr[2]) == zeros(48));
  CHECK(to_hex(q.rtmr[3]) == zeros(48));
  CHECK(to_hex(q.report_data) ==
        "7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656aeb755da3d44d098c0c87382f3a5"
        "f85b45c8a28fee1d3bdb38342bf96671501429");
  CHECK(q.signature_data.size() == 4300);
}

TEST_CASE("tdx quote: edits are refused at their offset", "[evidence]") {
  const Bytes good = real_quote();
  auto edited = [&](std::size_t off, std::uint8_t v) {
    Bytes b = good;
    b[off] = v;
    return error_place(b);
  };
  CHECK(error_place(good) == "no error");
  CHECK(edited(0x00, 5) == "0x0");
  CHECK(edited(0x02, 1) == "0x2");
  CHECK(edited(0x02, 3) == "no error");
  CHECK(edited(0x04, 0) == "0x4");
  CHECK(edited(0x278, 0xcd) == "0x278");
  Bytes longer = good;
  longer.push_back(0);
  CHECK(error_place(longer) == "0x278");
  CHECK(error_place(Bytes(good.begin(), good.begin() + 0x2f)) == "0x0");
  CHECK(error_place(Bytes(good.begin(), good.begin() + 0x100)) == "0x30");
  CHECK(error_place(Bytes(good.begin(), good.begin() + 0x27a)) == "0x278");
}

}  // namespace
}  // namespace mkguest
