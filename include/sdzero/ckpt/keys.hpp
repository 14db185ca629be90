// defines: declare_ckpt_keys, the [ckpt] configuration keys (cadence, rotation, resume).
#pragma once
#include "sdzero/core/config.hpp"

namespace sdz {
void declare_ckpt_keys(Schema& s);
}
