#include "sdzero/core/timer.hpp"

namespace sdz {

void PhaseTimers::add(const std::string& name, double seconds) {
  for (auto& p : phases_)
    if (p.first == name) {
      p.second += seconds;
      return;
    }
  phases_.emplace_back(name, seconds);
}

double PhaseTimers::get(const std::string& name) const {
  for (const auto& p : phases_)
    if (p.first == name) return p.second;
  return 0.0;
}

double PhaseTimers::total() const {
  double t = 0;
  for (const auto& p : phases_) t += p.second;
  return t;
}

}  // namespace sdz
