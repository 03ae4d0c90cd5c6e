// The IGVM writer: every file of the independent Python writer, read and
// written again, comes back byte for byte (the two writers lay out headers
// and file data alike), and what the writer makes reads back the same.
#include <catch2/catch.hpp>

#include "base/error.h"
#include "base/file.h"
#include "builder/formats/igvm/writer.h"
#include "tests/builder/formats/igvm/igvm_shapes.h"

using namespace mkguest;
using namespace mkguest::igvm;

TEST_CASE("IGVM reader and writer round-trip every shape byte for byte", "[igvm]") {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::igvm_shapes().path)) {
    INFO(e.path().filename());
    const Bytes b = read_file(e.path());
    const File f = parse_igvm(b, e.path().string());
    const Bytes again = write_igvm(f.revision, f.architecture, headers_of(f));
    CHECK(again == b);
    const File g = parse_igvm(again, "again");
    CHECK(g.directives.size() == f.directives.size());
    ++n;
  }
  CHECK(n == 7);
}

TEST_CASE("IGVM writer output reads back with its data", "[igvm]") {
  std::vector<WriterHeader> hs(3);
  hs[0].type = kVhtSupportedPlatform;
  hs[0].body = {0x01, 0, 0, 0, 0, kPlatformSevSnp, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  hs[1].type = kVhtPageData;
  hs[1].body.assign(kSizePageData, 0);
  hs[1].body[1] = 0x10;  // GPA 0x1000
  hs[1].body[8] = 1;     // mask
  hs[1].refs.emplace_back(12, Bytes(kPageSize, 0x5a));
  hs[2] = hs[1];
  hs[2].body[1] = 0x20;
  hs[2].refs[0].second.clear();  // no data: a page of zeros
  const Bytes b = write_igvm(2, Architecture::kX64, hs);
  const File f = parse_igvm(b, "w.igvm");
  CHECK(f.revision == 2);
  REQUIRE(f.directives.size() == 2);
  CHECK(f.directives[0].gpa == 0x1000);
  REQUIRE(f.directives[0].data.size() == kPageSize);
  CHECK(f.directives[0].data[100] == 0x5a);
  CHECK(f.directives[1].data.empty());
  CHECK(f.directives[1].file_offset == 0);
  CHECK_THROWS_AS(write_igvm(3, Architecture::kX64, hs), ValueError);
}
