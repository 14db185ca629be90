// defines: MetricsWriter — metrics.jsonl, one JSON object per line (per step), flushed after each
// line so a killed job keeps every record it logged. Opening appends: a resumed run continues the file.
#pragma once
#include <cstdio>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>

namespace sdz {

class MetricsWriter {
 public:
  MetricsWriter() = default;
  explicit MetricsWriter(const std::string& path, bool truncate = false);
  ~MetricsWriter();
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;
  MetricsWriter(MetricsWriter&& o) noexcept : f_(o.f_), path_(std::move(o.path_)) { o.f_ = nullptr; }
  MetricsWriter& operator=(MetricsWriter&& o) noexcept {
    if (this != &o) {
      if (f_) std::fclose(f_);
      f_ = o.f_, path_ = std::move(o.path_), o.f_ = nullptr;
    }
    return *this;
  }
  void write(const nlohmann::json& record);
  bool is_open() const { return f_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  std::FILE* f_ = nullptr;
  std::string path_;
};

// On resume after `step`: keep only the records of steps <= step (and records without a step), drop
// a torn last line a killed job left, and rewrite the file atomically when anything goes. Returns the
// number of lines dropped (0: the file is untouched; a missing file is fine). Open writers on the
// file must be reopened afterwards (the rewrite is a new file).
int64_t trim_metrics_after(const std::string& path, int64_t step);

}  // namespace sdz
