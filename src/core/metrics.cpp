#include "sdzero/core/metrics.hpp"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"

namespace sdz {

MetricsWriter::MetricsWriter(const std::string& path, bool truncate) : path_(path) {
  f_ = std::fopen(path.c_str(), truncate ? "w" : "a");
  if (!f_) throw Error(std::string("cannot open metrics file: ") + std::strerror(errno), path);
}

int64_t trim_metrics_after(const std::string& path, int64_t step) {
  if (!file_exists(path)) return 0;
  const std::string text = read_file(path);
  std::string kept;
  int64_t dropped = 0;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    const bool complete = end != std::string::npos;
    if (!complete) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    const bool keep = complete && j.is_object() &&
                      (!j.contains("step") || !j["step"].is_number_integer() || j["step"].get<int64_t>() <= step);
    if (keep) kept += line + "\n";
    else ++dropped;
  }
  if (dropped > 0) write_file_atomic(path, kept);
  return dropped;
}

MetricsWriter::~MetricsWriter() {
  if (f_) std::fclose(f_);
}

void MetricsWriter::write(const nlohmann::json& record) {
  if (!f_) return;
  std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), f_) != line.size() || std::fflush(f_) != 0)
    throw Error(std::string("cannot write metrics: ") + std::strerror(errno), path_);
}

}  // namespace sdz
