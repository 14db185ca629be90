// defines: strprintf, trim, split, starts_with, ends_with, join, human durations and sizes.
#pragma once
#include <string>
#include <vector>

namespace sdz {

std::string strprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string trim(const std::string& s);
std::vector<std::string> split(const std::string& s, char sep);
std::string join(const std::vector<std::string>& parts, const std::string& sep);
inline bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }
inline bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}
std::string format_duration(double seconds);  // "1:02:03" or "2:03" or "4.2s"
std::string format_bytes(double bytes);       // "1.5 GiB"

}  // namespace sdz
