// defines: sdz::Error (an exception that says what, where and what to do), SDZ_CHECK.
#pragma once
#include <stdexcept>
#include <string>

namespace sdz {

// Every user-facing failure is an Error. `where` names the place a human can open: a file:line, a
// config key, a rank. `hint` says what to do about it. what() renders all three in one line.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what, const std::string& where = "", const std::string& hint = "");
  const std::string& message() const { return what_; }
  const std::string& where() const { return where_; }
  const std::string& hint() const { return hint_; }

 private:
  std::string what_, where_, hint_;
};

// file:line, the form editors and humans jump to.
std::string at_line(const std::string& file, long line);

}  // namespace sdz

#define SDZ_CHECK(cond, ...)                              \
  do {                                                    \
    if (!(cond)) throw ::sdz::Error(__VA_ARGS__);         \
  } while (0)
