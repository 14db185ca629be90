// defines: declare_tasks_keys(), the [data] and [reward] configuration keys owned by tasks/.
// The functions that read them are next to what they configure: dataset_spec_from() (dataset.hpp),
// verifier_options_from() (verifier.hpp), task_knobs_from() (here).
#pragma once
#include "sdzero/core/config.hpp"
#include "sdzero/tasks/builtin.hpp"

namespace sdz {
void declare_tasks_keys(Schema& s);
namespace tasks {
TaskKnobs task_knobs_from(const Config& cfg);
}
}  // namespace sdz
