// defines: the program's one configuration schema, gathered from every layer's declare_*_keys().
#pragma once
#include "sdzero/core/config.hpp"

namespace sdz::app {
const Schema& schema();
}
