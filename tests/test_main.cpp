#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#include <cstdio>

#include "tests/test_util.h"

namespace {

// After the run: how many tests were skipped for a missing prerequisite, and
// why (test::skip_or_fail; in CI they fail instead).
class SkipSummary : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;
  void testRunEnded(const Catch::TestRunStats& stats) override {
    const auto& skips = mkguest::test::skipped_tests();
    if (!skips.empty()) {
      // ctest reports a test with this line as skipped (SKIP_REGULAR_EXPRESSION).
      std::fprintf(stderr, "mkguest-tests-skipped: %zu (a prerequisite is missing)\n",
                   skips.size());
      for (const auto& s : skips) std::fprintf(stderr, "  %s\n", s.c_str());
    }
    TestEventListenerBase::testRunEnded(stats);
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(SkipSummary)
