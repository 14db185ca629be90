// defines: `sdzero bench --profile FILE` — where one training step's time goes, by kernel (GPU) or
// operator (CPU), from torch's profiler, plus the Chrome trace where this libtorch has Kineto.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace c10 {
struct Device;
}

namespace sdz::app {

// Runs `step` once under torch's profiler and summarises it: on a GPU the kernels (device time, grouped
// by name: busy seconds, launches, the share of GEMMs, attention and everything else); on the CPU the
// operators (inclusive times, so nested ones overlap). Writes the Chrome trace to `trace_path` when
// the profiler can (needs a Kineto build; Debian's libtorch has none: the JSON says so).
nlohmann::json profile_step(const std::function<void()>& step, const c10::Device& dev, const std::string& trace_path,
                            int top = 25);

}  // namespace sdz::app
