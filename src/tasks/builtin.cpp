// The registry of built-in tasks.
#include "sdzero/tasks/builtin.hpp"

#include "sdzero/core/error.hpp"
#include "sdzero/core/strings.hpp"
#include "task_impl.hpp"

namespace sdz::tasks {

const std::vector<std::string>& builtin_task_names() {
  static const std::vector<std::string> names = {"div", "cd", "mul", "arith", "countdown"};
  return names;
}

bool is_builtin_task(const std::string& name) {
  for (const auto& n : builtin_task_names())
    if (n == name) return true;
  return false;
}

std::unique_ptr<BuiltinTask> make_builtin_task(const std::string& name, const TaskKnobs& k) {
  if (name == "div") return make_div_task(k);
  if (name == "cd") return make_cd_task(k);
  if (name == "mul") return make_mul_task(k);
  if (name == "arith") return make_arith_task(k);
  if (name == "countdown") return make_countdown_task(k);
  throw Error("unknown built-in task '" + name + "'", "", "known: " + join(builtin_task_names(), ", "));
}

Verdict verify_builtin(const std::string& name, const std::string& response, const std::string& target) {
  if (!is_builtin_task(name)) return fail("unknown task kind '" + name.substr(0, 40) + "'");
  static const TaskKnobs defaults;
  thread_local std::unique_ptr<BuiltinTask> cache[5];
  const auto& names = builtin_task_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) {
      if (!cache[i]) cache[i] = make_builtin_task(name, defaults);
      return cache[i]->verify(response, target);
    }
  return fail("unknown task kind");
}

}  // namespace sdz::tasks
