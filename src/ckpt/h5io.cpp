#include "sdzero/ckpt/h5io.hpp"

#include <sys/stat.h>

#include <cstring>
#include <mutex>

#include "sdzero/ckpt/checksum.hpp"
#include "sdzero/core/strings.hpp"

namespace sdz::ckpt::h5 {

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_, close_ = o.close_;
    o.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = -1;
}

void quiet_errors() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

namespace {

herr_t collect_error(unsigned n, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  if (e->desc && *e->desc) out->push_back(e->desc);
  (void)n;
  return 0;
}

// Innermost HDF5 messages say what actually happened (the outer ones only "unable to open").
[[noreturn]] void fail(const std::string& what, const std::string& where, bool corrupt = true) {
  std::string detail = last_error_text();
  std::string msg = detail.empty() ? what : what + " (HDF5: " + detail + ")";
  if (corrupt) throw CorruptCheckpoint(msg, where, "the file is damaged or not a checkpoint; use an older one");
  throw Error(msg, where);
}

// bf16 and fp16 as real HDF5 float types, so h5dump prints their values.
hid_t make_float16(bool bf16) {
  hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  if (bf16) H5Tset_fields(t, 15, 7, 8, 0, 7);
  else H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_offset(t, 0);
  H5Tset_precision(t, 16);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, bf16 ? 127 : 15);
  return t;
}

Handle file_type(torch::ScalarType st) {
  switch (st) {
    case torch::kFloat: return Handle(H5Tcopy(H5T_IEEE_F32LE), H5Tclose);
    case torch::kDouble: return Handle(H5Tcopy(H5T_IEEE_F64LE), H5Tclose);
    case torch::kHalf: return Handle(make_float16(false), H5Tclose);
    case torch::kBFloat16: return Handle(make_float16(true), H5Tclose);
    case torch::kLong: return Handle(H5Tcopy(H5T_STD_I64LE), H5Tclose);
    case torch::kInt: return Handle(H5Tcopy(H5T_STD_I32LE), H5Tclose);
    case torch::kShort: return Handle(H5Tcopy(H5T_STD_I16LE), H5Tclose);
    case torch::kChar: return Handle(H5Tcopy(H5T_STD_I8LE), H5Tclose);
    case torch::kByte:
    case torch::kBool: return Handle(H5Tcopy(H5T_STD_U8LE), H5Tclose);
    default: throw Error(std::string("checkpoint: unsupported tensor dtype ") + c10::toString(st));
  }
}

bool parse_dtype(const std::string& s, torch::ScalarType* out) {
  static const std::pair<const char*, torch::ScalarType> table[] = {
      {"float32", torch::kFloat}, {"float64", torch::kDouble}, {"float16", torch::kHalf},
      {"bfloat16", torch::kBFloat16}, {"int64", torch::kLong}, {"int32", torch::kInt},
      {"int16", torch::kShort}, {"int8", torch::kChar}, {"uint8", torch::kByte}, {"bool", torch::kBool}};
  for (const auto& [name, st] : table)
    if (s == name) return *out = st, true;
  return false;
}

Handle make_space(const std::vector<int64_t>& shape) {
  if (shape.empty()) return Handle(H5Screate(H5S_SCALAR), H5Sclose);
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  return Handle(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
}

// Creates the dataset, writes the payload with the file type as the memory type (no conversion:
// the bytes on disk are the bytes in memory) and stamps dtype/shape/crc32c.
size_t write_raw(hid_t group, const std::string& name, hid_t ftype, const std::string& dtype,
                 const std::vector<int64_t>& shape, const void* data, size_t nbytes) {
  check_name(name, "dataset name");
  Handle space = make_space(shape);
  Handle ds(H5Dcreate2(group, name.c_str(), ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) fail("cannot create dataset '" + name + "'", "checkpoint", false);
  if (nbytes > 0 && H5Dwrite(ds, ftype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    fail("cannot write dataset '" + name + "'", "checkpoint", false);
  set_attr(ds, "dtype", dtype);
  set_attr(ds, "shape", shape_text(shape));
  set_attr_u32(ds, "crc32c", crc32c(data, nbytes));
  return nbytes;
}

struct Opened {
  Handle ds, type, space;
  std::vector<int64_t> shape;
  size_t elem = 0;
  int64_t numel = 1;
};

// The dataset's full path in the file ("/optimizer/params/<name>/exp_avg"): its own name alone does
// not say which of many identically named datasets is damaged.
std::string full_path(hid_t obj, const std::string& fallback) {
  const ssize_t n = H5Iget_name(obj, nullptr, 0);
  if (n <= 0) return fallback;
  std::string out(size_t(n) + 1, '\0');
  H5Iget_name(obj, out.data(), out.size());
  out.resize(size_t(n));
  return out;
}

Opened open_dataset(hid_t group, const std::string& name, const std::string& where) {
  if (!has_child(group, name)) throw CorruptCheckpoint("missing dataset '" + name + "'", where, "the file is incomplete or from another program");
  Opened o;
  o.ds = Handle(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!o.ds.valid()) fail("cannot open dataset '" + name + "'", where);
  o.type = Handle(H5Dget_type(o.ds), H5Tclose);
  o.space = Handle(H5Dget_space(o.ds), H5Sclose);
  if (!o.type.valid() || !o.space.valid()) fail("cannot read the header of dataset '" + name + "'", where);
  int rank = H5Sget_simple_extent_ndims(o.space);
  if (rank < 0 || rank > 32) fail("bad dataspace in dataset '" + name + "'", where);
  std::vector<hsize_t> dims(size_t(rank) + 1);
  if (rank > 0 && H5Sget_simple_extent_dims(o.space, dims.data(), nullptr) < 0) fail("bad dataspace in '" + name + "'", where);
  for (int i = 0; i < rank; ++i) o.shape.push_back(int64_t(dims[size_t(i)]));
  o.elem = H5Tget_size(o.type);
  if (o.elem == 0) fail("bad datatype in dataset '" + name + "'", where);
  // A damaged header must not make us allocate more than the file can hold.
  hsize_t file_bytes = 0;
  hid_t fid = H5Iget_file_id(o.ds);
  if (fid >= 0) H5Fget_filesize(fid, &file_bytes), H5Fclose(fid);
  int64_t bytes = int64_t(o.elem);
  for (int64_t d : o.shape) {
    if (d < 0 || __builtin_mul_overflow(o.numel, d, &o.numel) || __builtin_mul_overflow(bytes, d, &bytes))
      throw CorruptCheckpoint("dataset '" + name + "' declares an impossible size", where);
  }
  if (file_bytes > 0 && uint64_t(bytes) > file_bytes)
    throw CorruptCheckpoint(strprintf("dataset '%s' declares %lld bytes, more than the file's %llu", name.c_str(),
                                      (long long)bytes, (unsigned long long)file_bytes), where);
  return o;
}

// Reads the whole payload into dst (exactly `nbytes`) and checks its crc32c.
void read_checked(Opened& o, const std::string& name, void* dst, size_t nbytes, const std::string& where) {
  if (!has_attr(o.ds, "crc32c")) throw CorruptCheckpoint("dataset '" + name + "' has no crc32c attribute", where);
  uint32_t want = attr_u32(o.ds, "crc32c", where);
  if (nbytes > 0 && H5Dread(o.ds, o.type, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
    fail("cannot read dataset '" + name + "'", where);
  uint32_t got = crc32c(dst, nbytes);
  if (got != want)
    throw CorruptCheckpoint(strprintf("checksum mismatch in dataset '%s': stored crc32c %08x, data has %08x",
                                      full_path(o.ds, name).c_str(), want, got),
                            where, "the file is damaged; use an older checkpoint");
}

}  // namespace

std::string last_error_text() {
  std::vector<std::string> msgs;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &msgs);
  H5Eclear2(H5E_DEFAULT);
  if (msgs.empty()) return "";
  if (msgs.size() == 1) return msgs[0];
  return msgs.back() + " <- " + msgs.front();
}

std::string dtype_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return "float32";
    case torch::kDouble: return "float64";
    case torch::kHalf: return "float16";
    case torch::kBFloat16: return "bfloat16";
    case torch::kLong: return "int64";
    case torch::kInt: return "int32";
    case torch::kShort: return "int16";
    case torch::kChar: return "int8";
    case torch::kByte: return "uint8";
    case torch::kBool: return "bool";
    default: return c10::toString(t);
  }
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void check_name(const std::string& name, const std::string& where) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos)
    throw Error("invalid checkpoint name '" + name + "'", where, "names must be non-empty, not '.', without '/'");
}

Handle create_file(const std::string& path) {
  quiet_errors();
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // v1.8+ object headers and superblock carry their own checksums: damaged metadata is detected.
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  Handle f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose);
  if (!f.valid()) fail("cannot create checkpoint file", path, false);
  return f;
}

Handle open_file(const std::string& path) {
  quiet_errors();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw Error("checkpoint file does not exist", path);
  if (!S_ISREG(st.st_mode)) throw Error("checkpoint path is not a regular file", path);
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), H5Fclose);
  if (!f.valid()) fail("cannot open checkpoint (truncated or not HDF5)", path);
  return f;
}

Handle create_group(hid_t parent, const std::string& name, const std::string& where) {
  check_name(name, where);
  Handle g(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!g.valid()) fail("cannot create group '" + name + "'", where, false);
  return g;
}

Handle open_group(hid_t parent, const std::string& name, const std::string& where) {
  if (!has_child(parent, name)) throw CorruptCheckpoint("missing group '" + name + "'", where, "the file is incomplete or from another program");
  Handle g(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.valid()) fail("cannot open group '" + name + "'", where);
  return g;
}

bool has_child(hid_t parent, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return false;
  htri_t r = H5Lexists(parent, name.c_str(), H5P_DEFAULT);
  if (r < 0) H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

namespace {
#if H5_VERSION_GE(1, 12, 0)
using LinkInfo = H5L_info2_t;
#else
using LinkInfo = H5L_info_t;
#endif
herr_t collect_name(hid_t, const char* name, const LinkInfo*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> children(hid_t group) {
  std::vector<std::string> names;
  hsize_t idx = 0;
  if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, &names) < 0)
    fail("cannot list a group", "checkpoint");
  return names;
}

bool is_group(hid_t parent, const std::string& name) {
  if (!has_child(parent, name)) return false;
  hid_t o = H5Oopen(parent, name.c_str(), H5P_DEFAULT);
  if (o < 0) return H5Eclear2(H5E_DEFAULT), false;
  bool g = H5Iget_type(o) == H5I_GROUP;
  H5Oclose(o);
  return g;
}

void set_attr(hid_t obj, const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, value.empty() ? 1 : value.size());
  H5Tset_strpad(type, H5T_STR_NULLPAD);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  std::string buf = value.empty() ? std::string(1, '\0') : value;
  if (!a.valid() || H5Awrite(a, type, buf.data()) < 0) fail("cannot write attribute '" + name + "'", "checkpoint", false);
}

void set_attr(hid_t obj, const std::string& name, int64_t value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!a.valid() || H5Awrite(a, H5T_NATIVE_INT64, &value) < 0) fail("cannot write attribute '" + name + "'", "checkpoint", false);
}

void set_attr_u32(hid_t obj, const std::string& name, uint32_t value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a(H5Acreate2(obj, name.c_str(), H5T_STD_U32LE, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!a.valid() || H5Awrite(a, H5T_NATIVE_UINT32, &value) < 0) fail("cannot write attribute '" + name + "'", "checkpoint", false);
}

bool has_attr(hid_t obj, const std::string& name) {
  htri_t r = H5Aexists(obj, name.c_str());
  if (r < 0) H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

namespace {
Handle open_attr(hid_t obj, const std::string& name, const std::string& where) {
  if (!has_attr(obj, name)) throw CorruptCheckpoint("missing attribute '" + name + "'", where);
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (!a.valid()) fail("cannot open attribute '" + name + "'", where);
  return a;
}
}  // namespace

std::string attr_text(hid_t obj, const std::string& name, const std::string& where) {
  Handle a = open_attr(obj, name, where);
  Handle type(H5Aget_type(a), H5Tclose);
  if (!type.valid() || H5Tget_class(type) != H5T_STRING || H5Tis_variable_str(type) != 0)
    fail("attribute '" + name + "' is not a fixed-length string", where);
  size_t n = H5Tget_size(type);
  std::string buf(n, '\0');
  if (H5Aread(a, type, buf.data()) < 0) fail("cannot read attribute '" + name + "'", where);
  buf.resize(std::strlen(buf.c_str()));
  return buf;
}

int64_t attr_i64(hid_t obj, const std::string& name, const std::string& where) {
  Handle a = open_attr(obj, name, where);
  int64_t v = 0;
  if (H5Aread(a, H5T_NATIVE_INT64, &v) < 0) fail("cannot read attribute '" + name + "'", where);
  return v;
}

uint32_t attr_u32(hid_t obj, const std::string& name, const std::string& where) {
  Handle a = open_attr(obj, name, where);
  uint32_t v = 0;
  if (H5Aread(a, H5T_NATIVE_UINT32, &v) < 0) fail("cannot read attribute '" + name + "'", where);
  return v;
}

size_t write_tensor(hid_t group, const std::string& name, const torch::Tensor& t) {
  if (!t.defined()) throw Error("checkpoint: tensor '" + name + "' is undefined");
  torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
  Handle ftype = file_type(c.scalar_type());
  std::vector<int64_t> shape(c.sizes().begin(), c.sizes().end());
  return write_raw(group, name, ftype, dtype_name(c.scalar_type()), shape, c.data_ptr(), c.nbytes());
}

size_t write_text(hid_t group, const std::string& name, const std::string& text) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, text.empty() ? 1 : text.size());
  H5Tset_strpad(type, H5T_STR_NULLPAD);
  // The checksum covers exactly the text; an empty text is stored as one NUL byte.
  std::string buf = text.empty() ? std::string(1, '\0') : text;
  check_name(name, "dataset name");
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle ds(H5Dcreate2(group, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  if (!ds.valid() || H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
    fail("cannot write dataset '" + name + "'", "checkpoint", false);
  set_attr(ds, "dtype", std::string("text"));
  set_attr(ds, "shape", std::string("[]"));
  set_attr(ds, "length", int64_t(text.size()));
  set_attr_u32(ds, "crc32c", crc32c(text.data(), text.size()));
  return text.size();
}

size_t write_i64(hid_t group, const std::string& name, int64_t v) {
  return write_raw(group, name, H5T_STD_I64LE, "int64", {}, &v, sizeof v);
}

size_t write_u64s(hid_t group, const std::string& name, const std::vector<uint64_t>& v) {
  return write_raw(group, name, H5T_STD_U64LE, "uint64", {int64_t(v.size())}, v.data(), v.size() * 8);
}

size_t write_i64s(hid_t group, const std::string& name, const std::vector<int64_t>& v) {
  return write_raw(group, name, H5T_STD_I64LE, "int64", {int64_t(v.size())}, v.data(), v.size() * 8);
}

torch::Tensor read_tensor(hid_t group, const std::string& name, const std::string& where) {
  Opened o = open_dataset(group, name, where);
  std::string dt = attr_text(o.ds, "dtype", where);
  torch::ScalarType st;
  if (!parse_dtype(dt, &st)) throw CorruptCheckpoint("dataset '" + name + "' has unknown dtype '" + dt + "'", where);
  if (o.elem != c10::elementSize(st))
    throw CorruptCheckpoint(strprintf("dataset '%s': dtype %s but %zu-byte elements", name.c_str(), dt.c_str(), o.elem), where);
  torch::Tensor t = torch::empty(o.shape, torch::TensorOptions().dtype(st));
  read_checked(o, name, t.data_ptr(), t.nbytes(), where);
  return t;
}

std::string read_text(hid_t group, const std::string& name, const std::string& where) {
  Opened o = open_dataset(group, name, where);
  if (H5Tget_class(o.type) != H5T_STRING || H5Tis_variable_str(o.type) != 0 || !o.shape.empty())
    throw CorruptCheckpoint("dataset '" + name + "' is not a text dataset", where);
  int64_t len = attr_i64(o.ds, "length", where);
  if (len < 0 || size_t(len) > o.elem || (len == 0 && o.elem != 1))
    throw CorruptCheckpoint("dataset '" + name + "' has a bad length attribute", where);
  std::string buf(o.elem, '\0');
  if (!has_attr(o.ds, "crc32c")) throw CorruptCheckpoint("dataset '" + name + "' has no crc32c attribute", where);
  uint32_t want = attr_u32(o.ds, "crc32c", where);
  if (H5Dread(o.ds, o.type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0) fail("cannot read dataset '" + name + "'", where);
  buf.resize(size_t(len));
  uint32_t got = crc32c(buf.data(), buf.size());
  if (got != want)
    throw CorruptCheckpoint(strprintf("checksum mismatch in dataset '%s': stored crc32c %08x, data has %08x",
                                      full_path(o.ds, name).c_str(), want, got),
                            where, "the file is damaged; use an older checkpoint");
  return buf;
}

namespace {
template <class T>
std::vector<T> read_words(hid_t group, const std::string& name, const std::string& where, bool scalar) {
  Opened o = open_dataset(group, name, where);
  if (H5Tget_class(o.type) != H5T_INTEGER || o.elem != sizeof(T) || (scalar != o.shape.empty()) || o.shape.size() > 1)
    throw CorruptCheckpoint("dataset '" + name + "' does not hold " + (scalar ? "one 64-bit integer" : "a 64-bit integer list"), where);
  std::vector<T> v(size_t(o.numel));
  read_checked(o, name, v.data(), v.size() * sizeof(T), where);
  return v;
}
}  // namespace

int64_t read_i64(hid_t group, const std::string& name, const std::string& where) {
  return read_words<int64_t>(group, name, where, true)[0];
}
std::vector<uint64_t> read_u64s(hid_t group, const std::string& name, const std::string& where) {
  return read_words<uint64_t>(group, name, where, false);
}
std::vector<int64_t> read_i64s(hid_t group, const std::string& name, const std::string& where) {
  return read_words<int64_t>(group, name, where, false);
}

DatasetMeta dataset_meta(hid_t group, const std::string& name, const std::string& where) {
  Opened o = open_dataset(group, name, where);
  DatasetMeta m;
  m.dtype = has_attr(o.ds, "dtype") ? attr_text(o.ds, "dtype", where) : "?";
  m.shape = o.shape;
  m.bytes = m.dtype == "text" && has_attr(o.ds, "length") ? attr_i64(o.ds, "length", where) : o.numel * int64_t(o.elem);
  return m;
}

std::string verify_dataset(hid_t group, const std::string& name) {
  try {
    DatasetMeta m = dataset_meta(group, name, "");
    if (m.dtype == "text") read_text(group, name, "");
    else if (m.dtype == "uint64") read_u64s(group, name, "");
    else if (m.dtype == "int64" && m.shape.empty()) read_i64(group, name, "");
    else read_tensor(group, name, "");
    return "";
  } catch (const Error& e) {
    return e.message();
  } catch (const std::exception& e) {
    return e.what();
  }
}

int64_t dataset_file_offset(hid_t group, const std::string& name) {
  Handle ds(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) return H5Eclear2(H5E_DEFAULT), -1;
  haddr_t a = H5Dget_offset(ds);
  if (a == HADDR_UNDEF) return H5Eclear2(H5E_DEFAULT), -1;
  return int64_t(a);
}

}  // namespace sdz::ckpt::h5
