// defines: the checkpoints of a run directory: <run>/checkpoints/step_XXXXXXXX.h5 plus a `latest`
// pointer file, save with keep-last-N rotation, and resume selection ("none" | "auto" | PATH).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sdzero/ckpt/checkpoint.hpp"

namespace sdz::ckpt {

std::string checkpoint_dir(const std::string& run_dir);                 // <run>/checkpoints
std::string checkpoint_path(const std::string& run_dir, int64_t step);  // .../step_00000042.h5
std::string latest_pointer_path(const std::string& run_dir);            // .../checkpoints/latest

// Checkpoint files of a run, oldest step first. Temporary files of interrupted writes are not listed.
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& run_dir);

struct SaveOptions {
  int64_t keep_last = 3;  // 0 keeps all
  WriteObserver observe;
};

// Writes checkpoints/step_<s.step>.h5 atomically, then points `latest` at it (atomically, last),
// then deletes all but the newest keep_last checkpoints and leftovers of interrupted writes.
// Call it on the learner root only. Returns the file's path.
std::string save_checkpoint(const std::string& run_dir, const TrainingState& s, const SaveOptions& opt = {});

struct ResumePoint {
  std::string path;
  TrainingState state;
  std::vector<std::string> skipped;  // newer files passed over, each "path: reason"
};

// spec "none" or "": start fresh (nullopt). "auto": the newest checkpoint of run_dir that loads and
// verifies; a damaged newer one is skipped with a warning; nullopt when there is none at all; an
// Error when checkpoints exist but none is usable. Anything else is a file path that must load,
// else an Error. A model shape mismatch (LoadOptions) is an Error in every mode.
std::optional<ResumePoint> resolve_resume(const std::string& spec, const std::string& run_dir,
                                          const LoadOptions& opt = {});

}  // namespace sdz::ckpt
