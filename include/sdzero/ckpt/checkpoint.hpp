// defines: one checkpoint file: write_checkpoint_file() (HDF5, checksummed, written to a temporary
// name, flushed, fsynced, renamed) and load_checkpoint() (verifies every checksum, bit-exact). The
// layout is in docs/CHECKPOINTS.md.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sdzero/ckpt/state.hpp"

namespace sdz::ckpt {

inline constexpr const char* kFormatName = "sdzero-checkpoint";
inline constexpr int64_t kFormatVersion = 1;

// Progress of a write, for logs and for tests that need to act at an exact point of it.
struct WriteEvent {
  enum Stage { Dataset, Flushed, Renamed };
  Stage stage = Dataset;
  std::string dataset;  // "/model/lm_head.weight" for Dataset events
  int64_t done_bytes = 0, total_bytes = 0;
  std::string path;  // the temporary file until Renamed, then the final path
};
using WriteObserver = std::function<void(const WriteEvent&)>;

// Writes `s` to `path` atomically: a reader sees the old file or the complete new one, never a
// partial one, even after kill -9 or a power loss. Fills code_version when it is empty.
// Returns the bytes of tensor and text payload written.
int64_t write_checkpoint_file(const std::string& path, const TrainingState& s, const WriteObserver& observe = {});

struct LoadOptions {
  // When not empty, /model must hold exactly these names with these shapes (what the configured
  // model expects); a difference is an Error (not CorruptCheckpoint: an older file will not help).
  std::map<std::string, std::vector<int64_t>> expected_model_shapes;
};

// Loads every dataset onto the CPU, verifying each checksum. A damaged file throws
// CorruptCheckpoint naming the file and dataset; it never crashes.
TrainingState load_checkpoint(const std::string& path, const LoadOptions& opt = {});

// The phase a file was written in (/state/phase, its checksum verified) without loading the rest:
// cheap enough to look at every checkpoint of a run before deciding how to resume.
std::string read_phase(const std::string& path);

// The exact shape check load_checkpoint applies, for callers holding a state already.
void check_model_shapes(const TrainingState& s, const std::map<std::string, std::vector<int64_t>>& expected,
                        const std::string& where);

}  // namespace sdz::ckpt
