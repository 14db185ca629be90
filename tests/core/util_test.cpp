// RNG, timers, progress lines, metrics files, atomic writes, string helpers.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/core/log.hpp"
#include "sdzero/core/metrics.hpp"
#include "sdzero/core/progress.hpp"
#include "sdzero/core/rng.hpp"
#include "sdzero/core/strings.hpp"
#include "sdzero/core/timer.hpp"

TEST(Rng, SameSeedSameStreamDifferentSeedDifferentStream) {
  sdz::Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
  }
}

TEST(Rng, KeySeedDependsOnEveryPartAndItsPosition) {
  std::set<uint64_t> seen;
  for (uint64_t s = 0; s < 4; ++s)
    for (uint64_t q = 0; q < 16; ++q)
      for (uint64_t k = 0; k < 8; ++k) seen.insert(sdz::key_seed({s, q, k}));
  EXPECT_EQ(seen.size(), 4u * 16 * 8);
  EXPECT_NE(sdz::key_seed({1, 2}), sdz::key_seed({2, 1}));
  EXPECT_EQ(sdz::key_seed({7, 8, 9}), sdz::key_seed({7, 8, 9}));
}

TEST(Rng, UniformRandintAndNormalHaveTheRightMoments) {
  sdz::Rng r(7);
  double sum = 0, sq = 0, nsum = 0, nsq = 0;
  int counts[6] = {0};
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u, sq += u * u;
    int64_t k = r.randint(-2, 3);
    ASSERT_GE(k, -2);
    ASSERT_LE(k, 3);
    counts[k + 2]++;
    double z = r.normal();
    nsum += z, nsq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sq / n - 0.25, 1.0 / 12, 0.005);
  for (int c : counts) EXPECT_NEAR(double(c) / n, 1.0 / 6, 0.01);
  EXPECT_NEAR(nsum / n, 0.0, 0.01);
  EXPECT_NEAR(nsq / n, 1.0, 0.02);
}

TEST(Rng, StateRoundTripsForCheckpoints) {
  sdz::Rng a(5);
  a.next();
  auto st = a.state();
  uint64_t x = a.next();
  sdz::Rng b(0);
  b.set_state(st);
  EXPECT_EQ(b.next(), x);
}

TEST(Rng, ShuffleIsAPermutation) {
  std::vector<int> v(100);
  for (int i = 0; i < 100; ++i) v[size_t(i)] = i;
  sdz::Rng r(3);
  r.shuffle(v);
  std::set<int> s(v.begin(), v.end());
  EXPECT_EQ(s.size(), 100u);
  bool moved = false;
  for (int i = 0; i < 100; ++i) moved |= v[size_t(i)] != i;
  EXPECT_TRUE(moved);
}

TEST(PhaseTimers, AccumulatesInFirstUseOrder) {
  sdz::PhaseTimers t;
  t.add("generate", 1.5);
  t.add("learn", 2.0);
  t.add("generate", 0.5);
  { auto s = t.scope("sync"); }
  ASSERT_EQ(t.phases().size(), 3u);
  EXPECT_EQ(t.phases()[0].first, "generate");
  EXPECT_DOUBLE_EQ(t.get("generate"), 2.0);
  EXPECT_GE(t.get("sync"), 0.0);
  EXPECT_DOUBLE_EQ(t.get("never"), 0.0);
  EXPECT_NEAR(t.total(), 4.0 + t.get("sync"), 1e-12);
}

TEST(Progress, RenderShowsCountsRateAndEta) {
  std::string s = sdz::Progress::render("pretrain", 25, 100, 10.0, "step", "loss 1.5");
  EXPECT_NE(s.find("pretrain  25/100 (25.0%)"), std::string::npos) << s;
  EXPECT_NE(s.find("2.5 step/s"), std::string::npos) << s;
  EXPECT_NE(s.find("ETA 30.0s"), std::string::npos) << s;
  EXPECT_NE(s.find("loss 1.5"), std::string::npos) << s;
  std::string done = sdz::Progress::render("x", 100, 100, 10.0, "it", "");
  EXPECT_EQ(done.find("ETA"), std::string::npos) << done;
}

TEST(Progress, PrintsFirstUpdateThrottlesThenPrintsTheEnd) {
  std::ostringstream out;
  sdz::log::set_sink(&out);
  sdz::log::init(0, 1);
  {
    sdz::Progress p("loop", 1000, "it", 3600.0);  // throttle far longer than the test
    for (int i = 1; i <= 1000; ++i) p.update(i);
  }
  sdz::log::set_sink(nullptr);
  std::string s = out.str();
  size_t lines = size_t(std::count(s.begin(), s.end(), '\n'));
  EXPECT_EQ(lines, 2u) << s;  // the first update and the last
  EXPECT_NE(s.find("1000/1000"), std::string::npos);
}

TEST(Strings, Helpers) {
  EXPECT_EQ(sdz::trim("  a b \n"), "a b");
  EXPECT_EQ(sdz::split("a,,b", ','), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(sdz::join({"x", "y"}, "-"), "x-y");
  EXPECT_EQ(sdz::format_duration(75), "1:15");
  EXPECT_EQ(sdz::format_duration(3725), "1:02:05");
  EXPECT_EQ(sdz::format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(sdz::strprintf("%d-%s", 3, "x"), "3-x");
}

TEST(Metrics, OneFlushedJsonObjectPerLineAndAppendOnReopen) {
  std::string path = testing::TempDir() + "metrics.jsonl";
  std::remove(path.c_str());
  {
    sdz::MetricsWriter w(path);
    w.write({{"step", 1}, {"loss", 2.5}});
    // Flushed: readable before the writer closes.
    std::ifstream in(path);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(nlohmann::json::parse(line)["loss"].get<double>(), 2.5);
  }
  { sdz::MetricsWriter(path).write({{"step", 2}}); }
  std::ifstream in(path);
  std::string l1, l2;
  std::getline(in, l1);
  std::getline(in, l2);
  EXPECT_EQ(nlohmann::json::parse(l2)["step"].get<int>(), 2);
  EXPECT_THROW(sdz::MetricsWriter("/nonexistent/dir/m.jsonl"), sdz::Error);
}

TEST(Metrics, TrimAfterAResumeStepDropsLaterAndTornRecords) {
  const std::string path = testing::TempDir() + "trim.jsonl";
  const std::string text =
      "{\"phase\":\"srt_collect\",\"step\":0}\n{\"step\":1}\n{\"note\":\"no step\"}\n{\"step\":2}\n{\"step\":3}\n"
      "{\"step\":4,\"lo";  // a job killed mid-line
  sdz::write_file_atomic(path, text);
  EXPECT_EQ(sdz::trim_metrics_after(path, 2), 2);  // step 3 and the torn line
  EXPECT_EQ(sdz::read_file(path), "{\"phase\":\"srt_collect\",\"step\":0}\n{\"step\":1}\n{\"note\":\"no step\"}\n{\"step\":2}\n");
  // Nothing to drop: the file is left as it is; a missing file is no error.
  EXPECT_EQ(sdz::trim_metrics_after(path, 2), 0);
  EXPECT_EQ(sdz::trim_metrics_after(path, 7), 0);
  EXPECT_EQ(sdz::trim_metrics_after(testing::TempDir() + "no-such.jsonl", 1), 0);
  // Resume after step 0 (no checkpoint yet): only the step-0 and step-less records stay.
  EXPECT_EQ(sdz::trim_metrics_after(path, 0), 2);
  EXPECT_EQ(sdz::read_file(path), "{\"phase\":\"srt_collect\",\"step\":0}\n{\"note\":\"no step\"}\n");
}

TEST(Files, AtomicWriteReplacesWholeFileAndLeavesNoTemp) {
  std::string dir = testing::TempDir() + "sdz_files/a/b";
  sdz::make_dirs(dir);
  std::string p = dir + "/f.txt";
  sdz::write_file_atomic(p, "first");
  sdz::write_file_atomic(p, "second");
  EXPECT_EQ(sdz::read_file(p), "second");
  EXPECT_FALSE(sdz::file_exists(p + ".tmp." + std::to_string(getpid())));
  EXPECT_THROW(sdz::read_file(dir + "/missing"), sdz::Error);
  EXPECT_THROW(sdz::write_file_atomic("/nonexistent/dir/x", "y"), sdz::Error);
  EXPECT_THROW(sdz::make_dirs(p + "/sub"), sdz::Error);  // a file is in the way
  // A directory is not a file: reading one is an error, not an empty string.
  try {
    sdz::read_file(dir);
    FAIL() << "read a directory";
  } catch (const sdz::Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(sdz::is_directory(dir));
  EXPECT_FALSE(sdz::is_directory(p));
  EXPECT_TRUE(sdz::is_regular_file(p));
  EXPECT_FALSE(sdz::is_regular_file(dir));
  EXPECT_FALSE(sdz::is_regular_file(dir + "/missing"));
}

TEST(Error, RendersWhereWhatAndHint) {
  sdz::Error e("bad value", "a.ini:3", "use a number");
  EXPECT_STREQ(e.what(), "a.ini:3: bad value (use a number)");
  EXPECT_EQ(sdz::at_line("f", 7), "f:7");
}
