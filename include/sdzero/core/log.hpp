// defines: sdz::log — rank-aware logging. Every line carries a time and a rank tag:
//   [04:51:22 r0] message        [04:51:22 r2] WARN: message
// Info and debug print on rank 0 only (or on the ranks that set_speaker names: the leader of each
// demo group) unless all_ranks is set; warnings and errors print on every rank, because a failure on
// rank 2 must never be silent.
#pragma once
#include <iosfwd>
#include <string>

namespace sdz::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };
Level parse_level(const std::string& s);  // "debug" | "info" | "warn" | "error"

void init(int rank, int world, Level level = Level::Info, bool all_ranks = false);
void set_sink(std::ostream* out);  // default std::cerr; tests capture lines here
// Whether this rank prints info and debug lines (init: rank 0 does). Ranks that run their own
// stages side by side each speak for their group.
void set_speaker(bool speaks);
bool enabled(Level level);
void write(Level level, const std::string& msg);

inline void debug(const std::string& m) { write(Level::Debug, m); }
inline void info(const std::string& m) { write(Level::Info, m); }
inline void warn(const std::string& m) { write(Level::Warn, m); }
inline void error(const std::string& m) { write(Level::Error, m); }

int rank();
int world();

}  // namespace sdz::log
