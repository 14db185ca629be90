#include "sdzero/core/metrics.hpp"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "sdzero/core/error.hpp"

namespace sdz {

MetricsWriter::MetricsWriter(const std::string& path, bool truncate) : path_(path) {
  f_ = std::fopen(path.c_str(), truncate ? "w" : "a");
  if (!f_) throw Error(std::string("cannot open metrics file: ") + std::strerror(errno), path);
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
