// The logger's rank filtering and line format.
#include <gtest/gtest.h>

#include <sstream>

#include "sdzero/core/error.hpp"
#include "sdzero/core/log.hpp"

namespace log = sdz::log;

namespace {
struct Capture {
  std::ostringstream out;
  Capture() { log::set_sink(&out); }
  ~Capture() {
    log::set_sink(nullptr);
    log::init(0, 1);
  }
};
}  // namespace

TEST(Log, RankZeroPrintsInfoWithRankTag) {
  Capture c;
  log::init(0, 3);
  log::info("hello");
  EXPECT_NE(c.out.str().find(" r0] hello\n"), std::string::npos) << c.out.str();
}

TEST(Log, OtherRanksAreQuietByDefault) {
  Capture c;
  log::init(2, 3);
  log::info("hidden");
  log::debug("hidden too");
  EXPECT_EQ(c.out.str(), "");
}

TEST(Log, OtherRanksPrintWhenAllRanksIsSet) {
  Capture c;
  log::init(2, 3, log::Level::Info, true);
  log::info("visible");
  EXPECT_NE(c.out.str().find(" r2] visible"), std::string::npos) << c.out.str();
}

TEST(Log, WarningsAndErrorsPrintOnEveryRank) {
  Capture c;
  log::init(1, 3);
  log::warn("careful");
  log::error("broken");
  std::string s = c.out.str();
  EXPECT_NE(s.find(" r1] WARN: careful"), std::string::npos) << s;
  EXPECT_NE(s.find(" r1] ERROR: broken"), std::string::npos) << s;
}

TEST(Log, LevelFiltersLessSevereMessages) {
  Capture c;
  log::init(0, 1, log::Level::Warn);
  log::info("no");
  log::warn("yes");
  EXPECT_EQ(c.out.str().find("no"), std::string::npos);
  EXPECT_NE(c.out.str().find("yes"), std::string::npos);
  log::init(0, 1, log::Level::Debug);
  log::debug("dbg");
  EXPECT_NE(c.out.str().find("dbg"), std::string::npos);
}

TEST(Log, ParseLevel) {
  EXPECT_EQ(log::parse_level("debug"), log::Level::Debug);
  EXPECT_EQ(log::parse_level("error"), log::Level::Error);
  EXPECT_THROW(log::parse_level("loud"), sdz::Error);
}
