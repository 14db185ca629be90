// defines: deterministic randomness. key_seed() turns a tuple such as (seed, step, question id,
// sample index) into an independent 64-bit seed, so a sample's randomness never depends on which
// rank or batch slot produced it. Rng is xoshiro256** with a state that checkpoints can save.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace sdz {

uint64_t splitmix64(uint64_t x);
uint64_t key_seed(std::initializer_list<uint64_t> parts);
uint64_t hash_string(const std::string& s);  // FNV-1a, stable across platforms and runs

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  uint64_t next();
  double uniform();                       // [0, 1)
  double normal();                        // standard normal (Box-Muller)
  int64_t randint(int64_t lo, int64_t hi);  // inclusive range, unbiased
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[size_t(randint(0, int64_t(i) - 1))]);
  }
  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<uint64_t, 4> s_;
};

}  // namespace sdz
