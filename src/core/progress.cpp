#include "sdzero/core/progress.hpp"

#include "sdzero/core/log.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz {

Progress::Progress(std::string label, int64_t total, std::string unit, double min_seconds)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), min_seconds_(min_seconds) {}

double Progress::eta_seconds() const {
  if (done_ <= 0 || total_ <= 0) return -1;
  return timer_.seconds() / double(done_) * double(total_ - done_);
}

std::string Progress::render(const std::string& label, int64_t done, int64_t total, double elapsed,
                             const std::string& unit, const std::string& extra) {
  double rate = elapsed > 0 ? double(done) / elapsed : 0.0;
  std::string s = label + "  " + std::to_string(done);
  if (total > 0) s += strprintf("/%lld (%.1f%%)", (long long)total, 100.0 * double(done) / double(total));
  s += strprintf("  %.3g %s/s  elapsed %s", rate, unit.c_str(), format_duration(elapsed).c_str());
  if (total > 0 && done > 0 && done < total)
    s += "  ETA " + format_duration(elapsed / double(done) * double(total - done));
  if (!extra.empty()) s += "  " + extra;
  return s;
}

void Progress::update(int64_t done, const std::string& extra) {
  done_ = done;
  double now = timer_.seconds();
  bool first = last_print_ < 0;
  if (!first && now - last_print_ < min_seconds_ && !(total_ > 0 && done_ >= total_)) return;
  last_print_ = now;
  log::info(render(label_, done_, total_, now, unit_, extra));
  if (total_ > 0 && done_ >= total_) finished_ = true;
}

void Progress::finish(const std::string& extra) {
  if (finished_) return;
  finished_ = true;
  log::info(render(label_, done_, total_, timer_.seconds(), unit_, extra) + "  done");
}

}  // namespace sdz
