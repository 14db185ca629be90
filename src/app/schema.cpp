// Every configuration key of the program, gathered once from the layers that own them.
#include "sdzero/app/schema.hpp"
#include "sdzero/ckpt/keys.hpp"
#include "sdzero/algo/keys.hpp"
#include "sdzero/model/keys.hpp"
#include "sdzero/text/keys.hpp"
#include "sdzero/tasks/keys.hpp"

#include "sdzero/dist/layout.hpp"
#include "sdzero/pipeline/keys.hpp"

namespace sdz::app {

const Schema& schema() {
  static const Schema s = [] {
    Schema s;
    declare_core_keys(s);
    declare_ckpt_keys(s);
    declare_model_keys(s);
    declare_tasks_keys(s);
    declare_algo_keys(s);
    declare_text_keys(s);
    declare_dist_keys(s);
    declare_pipeline_keys(s);
    return s;
  }();
  return s;
}

}  // namespace sdz::app
