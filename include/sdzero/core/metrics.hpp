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

}  // namespace sdz
