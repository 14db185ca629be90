// Method base class and the factory (see method.hpp). Implementations live in method_*.cpp.
#include "sdzero/algo/method.hpp"

#include "sdzero/algo/methods.hpp"
#include "sdzero/core/error.hpp"

namespace sdz::algo {

namespace {
TeacherOptions resolve_teacher(const AlgoConfig& cfg, TeacherUpdate default_update) {
  TeacherOptions t = cfg.teacher;
  if (cfg.teacher_update == "auto") t.update = default_update;
  return t;
}
}  // namespace

Method::Method(AlgoConfig cfg, MethodContext ctx, TeacherUpdate default_update)
    : cfg_(std::move(cfg)), ctx_(std::move(ctx)), sampling_(cfg_.sampling),
      teacher_(resolve_teacher(cfg_, default_update)) {}

std::optional<ScoredLayout> Method::teacher_layout(const Trajectory&) const { return std::nullopt; }

std::vector<Trajectory> Method::keep(std::vector<Trajectory> trajs, Stats* stats) const {
  if (stats) (*stats)["keep/kept"] = double(trajs.size());
  return trajs;
}

std::unique_ptr<Method> make_method(const AlgoConfig& cfg, const MethodContext& ctx) {
  if (cfg.method == "sdzero") return std::make_unique<SdZeroMethod>(cfg, ctx);
  if (cfg.method == "sdft") return std::make_unique<SdftMethod>(cfg, ctx);
  if (cfg.method == "srt") return std::make_unique<SrtMethod>(cfg, ctx);
  if (cfg.method == "sft") return std::make_unique<SftMethod>(cfg, ctx);
  if (cfg.method == "rft") return std::make_unique<RftMethod>(cfg, ctx);
  if (cfg.method == "grpo") return std::make_unique<GrpoMethod>(cfg, ctx);
  throw Error("unknown method '" + cfg.method + "'", "method.name", "use sdzero, srt, sft, rft, grpo or sdft");
}

}  // namespace sdz::algo
