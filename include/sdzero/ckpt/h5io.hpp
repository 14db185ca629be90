// defines: the thin HDF5 C API layer under checkpoints: RAII handles, HDF5 error stacks turned into
// sdz::Error, and checksummed datasets. Every dataset carries attributes "dtype" (torch name or
// "text"/"uint64"), "shape" ("[4, 8]") and "crc32c" (of the raw little-endian bytes), so `h5dump -A`
// shows what a human needs and the reader can verify every byte it loads.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "sdzero/core/error.hpp"

namespace sdz::ckpt {

// A file that is damaged (truncated, checksum mismatch, missing or malformed dataset). Resume
// selection falls back to an older checkpoint on this, but not on a plain Error such as a model
// shape that does not match the configuration.
class CorruptCheckpoint : public Error {
 public:
  using Error::Error;
};

namespace h5 {

class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  void reset();
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// HDF5's own error printing is switched off once; failures come back as exceptions whose text ends
// with the innermost HDF5 message ("truncated file: eof = ...").
void quiet_errors();
std::string last_error_text();  // and clears the stack

Handle create_file(const std::string& path);  // truncates; checksummed metadata (libver >= 1.8)
Handle open_file(const std::string& path);    // read-only; throws CorruptCheckpoint when unreadable
Handle create_group(hid_t parent, const std::string& name, const std::string& where);
Handle open_group(hid_t parent, const std::string& name, const std::string& where);
bool has_child(hid_t parent, const std::string& name);
std::vector<std::string> children(hid_t group);  // names in name order
bool is_group(hid_t parent, const std::string& name);

// Names are single HDF5 link names: non-empty, no '/', not "." (HF names with dots are fine).
void check_name(const std::string& name, const std::string& where);

// Attributes (scalar).
void set_attr(hid_t obj, const std::string& name, const std::string& value);
void set_attr(hid_t obj, const std::string& name, int64_t value);
void set_attr_u32(hid_t obj, const std::string& name, uint32_t value);
bool has_attr(hid_t obj, const std::string& name);
std::string attr_text(hid_t obj, const std::string& name, const std::string& where);
int64_t attr_i64(hid_t obj, const std::string& name, const std::string& where);
uint32_t attr_u32(hid_t obj, const std::string& name, const std::string& where);

// Datasets. Writers return the number of payload bytes written. Readers verify the checksum and
// throw CorruptCheckpoint naming `where` (file path) and the dataset.
size_t write_tensor(hid_t group, const std::string& name, const torch::Tensor& t);
size_t write_text(hid_t group, const std::string& name, const std::string& text);
size_t write_i64(hid_t group, const std::string& name, int64_t v);
size_t write_u64s(hid_t group, const std::string& name, const std::vector<uint64_t>& v);
size_t write_i64s(hid_t group, const std::string& name, const std::vector<int64_t>& v);
torch::Tensor read_tensor(hid_t group, const std::string& name, const std::string& where);
std::string read_text(hid_t group, const std::string& name, const std::string& where);
int64_t read_i64(hid_t group, const std::string& name, const std::string& where);
std::vector<uint64_t> read_u64s(hid_t group, const std::string& name, const std::string& where);
std::vector<int64_t> read_i64s(hid_t group, const std::string& name, const std::string& where);

// The shape and dtype a dataset declares, without reading its payload.
struct DatasetMeta {
  std::string dtype;
  std::vector<int64_t> shape;
  int64_t bytes = 0;  // payload bytes
};
DatasetMeta dataset_meta(hid_t group, const std::string& name, const std::string& where);

// Reads the payload and compares it with the stored crc32c: "" when good, else what is wrong.
std::string verify_dataset(hid_t group, const std::string& name);

// Byte offset of a contiguous dataset's payload in the file (-1 when it has none); tests use it
// to damage payload bytes on purpose.
int64_t dataset_file_offset(hid_t group, const std::string& name);

std::string dtype_name(torch::ScalarType t);
std::string shape_text(const std::vector<int64_t>& shape);

}  // namespace h5
}  // namespace sdz::ckpt
