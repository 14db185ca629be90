// defines: sdz::ckpt::TrainingState, everything a run needs to continue bit for bit: policy
// parameters under their Hugging Face names, AdamW state, the teacher, RNG states, data cursors,
// budget counters, step / policy version / method phase, the resolved config, the code version and a
// metrics summary. It is layout-free (full, gathered tensors), so a run can resume on another layout.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace sdz::ckpt {

// Phases the pipeline writes; any other string is stored and read back as is.
inline constexpr const char* kPhaseSrtCollect = "srt_collect";
inline constexpr const char* kPhaseSrtTrain = "srt_train";
inline constexpr const char* kPhaseDistill = "distill";

// Per-parameter optimizer slots. For AdamW: slots "exp_avg" and "exp_avg_sq", and the step count
// that bias correction uses (torch keeps one per parameter).
struct ParamSlots {
  int64_t step = 0;
  std::map<std::string, torch::Tensor> slots;
};

struct OptimizerState {
  std::string kind = "adamw";
  std::map<std::string, ParamSlots> params;  // keyed by the parameter's HF name
  std::string hyper_json;                    // lr schedule position, betas, ... as the owner likes
};

// The teacher either has its own weights (frozen SRT model, EMA) or is the policy as it was at
// `synced_version` and can be rebuilt from it; then `params` stays empty.
struct TeacherState {
  std::string rule;            // "frozen", "sync", "ema", ... (free text, owned by algo/)
  int64_t synced_version = -1;  // policy version it was copied from; -1: never synced
  std::string schedule_json;    // algo::TeacherSchedule state (syncs, last sync step, plateau tracking)
  std::map<std::string, torch::Tensor> params;
};

// Where a dataset's reader stands. Shuffle orders are keyed by (seed, epoch), so these three
// numbers are enough to continue the same question stream.
struct DataCursor {
  int64_t epoch = 0;
  int64_t position = 0;  // next index into the epoch's order
  int64_t consumed = 0;  // questions handed out since the start of the run
};

struct TrainingState {
  int64_t step = 0;
  int64_t policy_version = 0;
  std::string phase;        // kPhase* or free text
  std::string config_text;  // resolved config.ini
  std::string code_version;  // SDZ_GIT_DESCRIBE of the writer (filled by the writer when empty)
  std::string metrics_json;  // short summary, JSON text
  std::string model_config_json;  // model::ModelConfig::to_hf_json() of the policy (HF export needs it)

  std::map<std::string, torch::Tensor> model;  // HF names -> tensors (any dtype, any device)
  OptimizerState optimizer;
  TeacherState teacher;

  std::map<std::string, std::array<uint64_t, 4>> rngs;  // sdz::Rng states by owner name
  std::map<std::string, torch::Tensor> torch_rngs;     // Generator::get_state() by device ("cpu")
  std::map<std::string, DataCursor> data;              // by dataset name ("train", "srt_q1", ...)
  std::map<std::string, int64_t> budget;               // counters: generations, tokens, ...
  std::map<std::string, torch::Tensor> extra;          // anything else a layer must carry over
  // Text another layer must carry over, e.g. "srt_traces": which traces file SRT trains on and its
  // checksum (JSON). Optional in the file: checkpoints written before it existed load with none.
  std::map<std::string, std::string> texts;
};

// Parameter count and bytes of the policy, for logs and `sdzero inspect`.
int64_t parameter_count(const TrainingState& s);
int64_t parameter_bytes(const TrainingState& s);

// Bit-exact equality of two states (tensors compared byte for byte, dtype and shape included).
// Returns "" when equal, else the first difference ("model/x: shape [2] vs [3]").
std::string first_difference(const TrainingState& a, const TrainingState& b);

}  // namespace sdz::ckpt
