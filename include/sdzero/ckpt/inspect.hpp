// defines: inspect_checkpoint(), what `sdzero inspect FILE` prints: the metadata of a checkpoint
// and every dataset with dtype, shape and checksum status. A damaged dataset is reported, not thrown.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sdz::ckpt {

struct DatasetReport {
  std::string path;  // "/model/lm_head.weight"
  std::string dtype;
  std::vector<int64_t> shape;
  int64_t bytes = 0;
  std::string problem;  // "" when the checksum verifies
};

struct Inspection {
  std::string path;
  int64_t file_bytes = 0;
  std::vector<std::pair<std::string, std::string>> meta;  // ordered (key, value) lines
  int64_t parameters = 0, parameter_bytes = 0;
  std::string config_text, metrics_json;
  std::vector<DatasetReport> datasets;
  int bad_datasets() const;
};

// Throws Error (CorruptCheckpoint) only when the file cannot be opened at all.
Inspection inspect_checkpoint(const std::string& path);
std::string format_inspection(const Inspection& in, bool with_config = true);

}  // namespace sdz::ckpt
