// defines: declare_pipeline_keys — the [train] section: how many steps, questions per step, which
// split, generation slots, and what is logged.
#pragma once

namespace sdz {
class Schema;
void declare_pipeline_keys(Schema& s);
}  // namespace sdz
