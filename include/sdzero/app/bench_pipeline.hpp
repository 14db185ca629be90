// defines: `sdzero bench --pipeline` — training throughput of the whole pipeline (tokens/s, steps/s,
// share of each phase) for 1..4 ranks, on-policy and async (dist.max_staleness = 1), measured by
// running `sdzero train` under mpirun (oversubscribed) on a generated configuration.
#pragma once
#include <string>
#include <vector>

namespace sdz::app {

// `args` are bench's arguments (with --pipeline). Prints the JSON and writes it to --out.
int bench_pipeline(const std::vector<std::string>& args);

}  // namespace sdz::app
