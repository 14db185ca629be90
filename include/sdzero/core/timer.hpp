// defines: Timer (wall-clock seconds), PhaseTimers (seconds per named phase, in first-use order,
// e.g. generate / verify / teacher / learn / sync / idle) with a scope guard.
#pragma once
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace sdz {

class Timer {
 public:
  Timer() : t0_(std::chrono::steady_clock::now()) {}
  void reset() { t0_ = std::chrono::steady_clock::now(); }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  std::chrono::steady_clock::time_point t0_;
};

class PhaseTimers {
 public:
  class Scope {
   public:
    Scope(PhaseTimers& p, std::string name) : p_(p), name_(std::move(name)) {}
    ~Scope() { p_.add(name_, t_.seconds()); }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    PhaseTimers& p_;
    std::string name_;
    Timer t_;
  };
  Scope scope(const std::string& name) { return Scope(*this, name); }
  void add(const std::string& name, double seconds);
  double get(const std::string& name) const;  // 0 for a phase never timed
  double total() const;
  void clear() { phases_.clear(); }
  const std::vector<std::pair<std::string, double>>& phases() const { return phases_; }

 private:
  std::vector<std::pair<std::string, double>> phases_;
};

}  // namespace sdz
