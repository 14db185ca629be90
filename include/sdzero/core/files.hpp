// defines: file helpers. write_file_atomic() writes to a temporary name, fsyncs and renames, so a
// crash never leaves a truncated file where a good one was.
#pragma once
#include <string>

namespace sdz {

std::string read_file(const std::string& path);  // throws Error naming the path
void write_file_atomic(const std::string& path, const std::string& content);
void make_dirs(const std::string& path);          // mkdir -p
bool file_exists(const std::string& path);        // anything: file, directory, device
bool is_directory(const std::string& path);
bool is_regular_file(const std::string& path);
void fsync_dir_of(const std::string& path);       // make a rename durable

}  // namespace sdz
