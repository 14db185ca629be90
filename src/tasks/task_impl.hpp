// Factories of the built-in tasks, one per task_*.cpp (private to src/tasks/).
#pragma once
#include <memory>

#include "sdzero/tasks/builtin.hpp"

namespace sdz::tasks {
std::unique_ptr<BuiltinTask> make_div_task(const TaskKnobs& k);
std::unique_ptr<BuiltinTask> make_cd_task(const TaskKnobs& k);
std::unique_ptr<BuiltinTask> make_mul_task(const TaskKnobs& k);
std::unique_ptr<BuiltinTask> make_arith_task(const TaskKnobs& k);
std::unique_ptr<BuiltinTask> make_countdown_task(const TaskKnobs& k);
}  // namespace sdz::tasks
