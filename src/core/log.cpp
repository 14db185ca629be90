#include "sdzero/core/log.hpp"

#include <chrono>
#include <ctime>
#include <iostream>
#include <mutex>

#include "sdzero/core/error.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::log {

namespace {
struct State {
  int rank = 0, world = 1;
  Level level = Level::Info;
  bool all_ranks = false, speaker = true;
  std::ostream* out = &std::cerr;
  std::mutex mu;
};
State& state() {
  static State s;
  return s;
}
}  // namespace

Level parse_level(const std::string& s) {
  if (s == "debug") return Level::Debug;
  if (s == "info") return Level::Info;
  if (s == "warn") return Level::Warn;
  if (s == "error") return Level::Error;
  throw Error("unknown log level '" + s + "'", "log.level", "use debug, info, warn or error");
}

void init(int rank, int world, Level level, bool all_ranks) {
  State& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  s.rank = rank, s.world = world, s.level = level, s.all_ranks = all_ranks, s.speaker = rank == 0;
}

void set_speaker(bool speaks) {
  State& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  s.speaker = speaks;
}

void set_sink(std::ostream* out) {
  State& s = state();
  std::lock_guard<std::mutex> g(s.mu);
  s.out = out ? out : &std::cerr;
}

bool enabled(Level level) {
  const State& s = state();
  if (level < s.level) return false;
  return level >= Level::Warn || s.speaker || s.all_ranks;
}

void write(Level level, const std::string& msg) {
  if (!enabled(level)) return;
  State& s = state();
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  const char* tag = level == Level::Warn ? "WARN: " : level == Level::Error ? "ERROR: " : "";
  std::string line = strprintf("[%02d:%02d:%02d r%d] %s", tm.tm_hour, tm.tm_min, tm.tm_sec, s.rank, tag) + msg + "\n";
  std::lock_guard<std::mutex> g(s.mu);
  (*s.out) << line << std::flush;
}

int rank() { return state().rank; }
int world() { return state().world; }

}  // namespace sdz::log
