// The init-data reader and writer (builder/formats/initdata). Valid documents
// are read as Python's tomllib (3.11, an independent TOML 1.0 parser) reads
// them; invalid ones are refused at their line and column; the rendering of a
// mapping parses back, with tomllib, to the same mapping; the annotation
// round-trips through Python's base64 and gzip (tests/builder/measure/
// initdata_ref.py unannotate, which also checks the header: no name, MTIME 0).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/file.h"
#include "builder/formats/initdata/initdata.h"
#include "tests/test_util.h"

using namespace mkguest;
namespace fs = std::filesystem;

namespace {

const fs::path kDocs = test::source_dir() / "tests/data/initdata";
const fs::path kRef = test::source_dir() / "tests/builder/measure/initdata_ref.py";

initdata::Document parse_text(const std::string& text) {
  return initdata::parse(as_bytes(text), "doc.toml");
}

// The place of the InputError that parsing `text` throws ("" if none).
std::string error_place(const std::string& text) {
  try {
    parse_text(text);
  } catch (const InputError& e) {
    CHECK(e.source() == "doc.toml");
    return e.place().empty() ? "-" : e.place();
  }
  return "";
}

// tomllib's reading of a document's data table, as JSON.
nlohmann::json tomllib_data(const fs::path& file) {
  auto r = test::run({"/usr/bin/python3", "-c",
                      "import json,sys,tomllib;"
                      "print(json.dumps(tomllib.load(open(sys.argv[1],'rb'))['data']))",
                      file.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("init-data documents read as tomllib reads them", "[initdata]") {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kDocs)) {
    if (e.path().extension() != ".toml") continue;
    ++n;
    INFO(e.path().filename());
    const Bytes bytes = read_file(e.path());
    const initdata::Document doc = initdata::parse(bytes, e.path().string());
    CHECK(doc.version == "0.1.0");
    CHECK(doc.bytes == bytes);
    nlohmann::json ours = nlohmann::json::object();
    for (const auto& [k, v] : doc.data) ours[k] = v;
    CHECK(ours == tomllib_data(e.path()));
  }
  CHECK(n >= 5);
}

TEST_CASE("init-data data keep the order of the text", "[initdata]") {
  const auto doc =
      parse_text("version = \"0.1.0\"\nalgorithm = \"sha256\"\n[data]\nz = \"1\"\na = \"2\"\n");
  REQUIRE(doc.data.size() == 2);
  CHECK(doc.data[0].first == "z");
  CHECK(doc.data[1].first == "a");
  CHECK(doc.algorithm_place.str() == "2:13");
}

TEST_CASE("init-data errors name the line and column", "[initdata]") {
  const std::string head = "version = \"0.1.0\"\nalgorithm = \"sha384\"\n";
  // TOML syntax: an unterminated string, a duplicate key.
  CHECK(error_place(head + "[data]\nk = \"v\n") == "4:7");
  CHECK(error_place(head + "[data]\nk = \"v\"\nk = \"w\"\n").rfind("5:", 0) == 0);
  // The specification's checks, as Kata's InitData::validate makes them.
  CHECK(error_place("version = \"0.2.0\"\nalgorithm = \"sha384\"\n[data]\n") == "1:11");
  CHECK(error_place("version = \"0.1.0\"\nalgorithm = \"sha1\"\n[data]\n") == "2:13");
  CHECK(error_place("version = \"0.1.0\"\nalgorithm = \"SHA256\"\n[data]\n") == "2:13");
  CHECK(error_place("version = 1\nalgorithm = \"sha256\"\n[data]\n") == "1:11");
  CHECK(error_place(head + "[data]\nk = 1\n") == "4:5");
  CHECK(error_place(head + "[data]\nk = [\"a\"]\n") == "4:5");
  CHECK(error_place(head + "[data.sub]\nk = \"v\"\n") == "3:1");
  CHECK(error_place(head + "data = \"x\"\n") == "3:8");
  // Strict where Kata is lenient: unknown top-level keys, a byte-order mark.
  CHECK(error_place(head + "extra = \"x\"\n[data]\n") == "3:1");
  CHECK(error_place("\xEF\xBB\xBF" + head + "[data]\n") == "0x0");
  // A missing key has no place: the whole file is named.
  CHECK(error_place(head) == "-");
  CHECK(error_place("algorithm = \"sha384\"\n[data]\n") == "-");
  // Not UTF-8.
  CHECK(!error_place(head + "[data]\nk = \"\xC3\x28\"\n").empty());
  CHECK(error_place(head + "[data]\nk = \"v\"\n").empty());
}

TEST_CASE("init-data rendered from a mapping parses back, with tomllib too", "[initdata]") {
  const std::vector<std::pair<std::string, std::string>> data = {
      {"aa.toml", "[token_configs.kbs]\nurl = 'http://kbs:8080'\n"},
      {"quote\"back\\slash", "tab\there\r\nbell\x07 del\x7F"},
      {"grüße", "世界 😀"},
      {"empty", ""}};
  const std::string text = initdata::render(HashAlg::kSha512, data);
  CHECK(text.rfind("version = \"0.1.0\"\nalgorithm = \"sha512\"\n\n[data]\n", 0) == 0);
  CHECK(initdata::render(HashAlg::kSha512, data) == text);
  const auto doc = parse_text(text);
  CHECK(doc.algorithm == HashAlg::kSha512);
  CHECK(doc.data == data);
  test::TempDir d;
  test::write_text(d / "r.toml", text);
  nlohmann::json want = nlohmann::json::object();
  for (const auto& [k, v] : data) want[k] = v;
  CHECK(tomllib_data(d / "r.toml") == want);
  CHECK_THROWS_AS(initdata::render(HashAlg::kSha256, {{"k", "\xC3\x28"}}), ValueError);
  CHECK_THROWS_AS(initdata::render(HashAlg::kSha256, {{"k", "a"}, {"k", "b"}}), ValueError);
}

TEST_CASE("init-data annotation round-trips through Python's base64 and gzip", "[initdata]") {
  for (const char* name : {"coco-sha384.toml", "unicode-sha256.toml", "plain-sha512-nonl.toml"}) {
    INFO(name);
    const Bytes bytes = read_file(kDocs / name);
    const std::string value = initdata::annotation_value(bytes);
    CHECK(initdata::annotation_value(bytes) == value);
    auto r = test::run({"/usr/bin/python3", kRef.string(), "unannotate", value});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == std::string(bytes.begin(), bytes.end()));
  }
}

TEST_CASE("init-data annotation equals Kata's Go vector but for the gzip time", "[initdata]") {
  // kata-containers src/runtime/pkg/oci/utils_test.go (commit 6203e28b): the
  // annotation Kata's test feeds addHypervisorInitdataOverrides, whose
  // document is tests/data/initdata/kata-go-sha256.toml. Its gzip header
  // holds MTIME 0x67f74259; Python sets those 4 bytes to 0 and re-encodes.
  const std::string kata =
      "H4sIAFlC92cAAytLLSrOzM9TsFVQMtAz1DNQ4krMSc8vyizJyAWJFWckGpmaKXFFpySWJMZyKSUm6pXk5+YoAeXU1d"
      "W5QJhLKTklA4toQX5OZnKlXlFqej6yBABS/5JkcQAAAA==";
  auto py = test::run({"/usr/bin/python3", "-c",
                       "import base64,sys;b=bytearray(base64.b64decode(sys.argv[1]));"
                       "b[4:8]=bytes(4);print(base64.b64encode(b).decode())",
                       kata});
  REQUIRE(py.exit_code == 0);
  CHECK(initdata::annotation_value(read_file(kDocs / "kata-go-sha256.toml")) + "\n" == py.out);
}

TEST_CASE("init-data refuses non-ASCII outside strings and comments, before toml++", "[initdata]") {
  // toml++ 3.3 reaches __builtin_unreachable() on U+00A1..U+0499 where it
  // expects whitespace (found by initdata_fuzz; tests/corpus/initdata/
  // regress-bare-latin1-key.toml replays it). TOML 1.0 allows non-ASCII only
  // in strings and comments, so the place is the character's.
  const std::string head = "version = \"0.1.0\"\nalgorithm = \"sha256\"\n";
  CHECK(error_place(head + "[data]\nk\xC3\xBC = \"v\"\n") == "4:2");
  CHECK(error_place(head + "[data]\nk = \"v\" \xC3\xBC\n") == "4:9");
  CHECK(error_place(head + "\xC2\xA0[data]\n") == "3:1");
  // Inside every string form and in comments it is text, as TOML says.
  const std::string ok = head +
                         "# gr\xC3\xBC\xC3\x9F\n[data]\n"
                         "k = \"\xC3\xA9 \\\" \xC3\xA9\"\n"
                         "l = '\xC3\xA9'\n"
                         "m = \"\"\"\xC3\xA9\n\xC3\xA9\"\"\"\"\n"
                         "n = '''\xC3\xA9'''\n"
                         "\"\xC3\xA9\" = \"v\"\n";
  CHECK(error_place(ok).empty());
}
