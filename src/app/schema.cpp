// Every configuration key of the program, gathered once from the layers that own them.
#include "sdzero/app/schema.hpp"
#include "sdzero/ckpt/keys.hpp"
#include "sdzero/text/keys.hpp"

namespace sdz::app {

const Schema& schema() {
  static const Schema s = [] {
    Schema s;
    declare_core_keys(s);
    declare_ckpt_keys(s);
    declare_text_keys(s);
    return s;
  }();
  return s;
}

}  // namespace sdz::app
