// defines: declare_model_keys(), the [model] section: which model to load, or the shape of a tiny one.
#pragma once

namespace sdz {
class Schema;
void declare_model_keys(Schema& s);
}  // namespace sdz
