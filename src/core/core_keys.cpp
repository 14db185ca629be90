// The [run] and [log] keys, owned by core/.
#include "sdzero/core/config.hpp"

namespace sdz {

void declare_core_keys(Schema& s) {
  s.add_string("run.name", "default", "Name of the run; the run directory defaults to runs/<name>.");
  s.add_string("run.dir", "", "Run directory (config.ini, metrics.jsonl, checkpoints/). Empty: runs/<run.name>.");
  s.add_int("run.seed", 1234, "Seed of every random choice; a run is a pure function of (config, seed, layout).", 0);
  s.add_int("run.threads", 0, "Compute threads per rank; 0 = cores per node / ranks per node.", 0, 1024);
  s.add_string("log.level", "info", "Least severe message printed.", {"debug", "info", "warn", "error"});
  s.add_bool("log.all_ranks", false, "Print info/debug lines from every rank, not only rank 0 (warnings and errors always print).");
  s.add_float("log.progress_seconds", 2.0, "Least seconds between two progress lines of a long loop.", 0.0, 3600.0);
}

}  // namespace sdz
