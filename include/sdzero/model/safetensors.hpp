// defines: the safetensors format (Hugging Face): read a file memory-mapped, read a sharded model
// directory (model.safetensors.index.json), write single or sharded files. Torch-free: tensors are
// (dtype, shape, bytes); model/weights.hpp turns them into torch tensors.
// Layout: u64 little-endian header size N, N bytes of JSON {name: {dtype, shape, data_offsets}},
// then the data. Every offset and size is checked against the file before anything is read.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sdz::model {

enum class DType { F32, BF16, F16 };
size_t dtype_size(DType d);
const char* dtype_name(DType d);  // "F32" | "BF16" | "F16"

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // inside the mapping; valid while the file object lives
  size_t nbytes = 0;
  std::string file;
  int64_t numel() const;
};

// One .safetensors file, mapped read-only.
class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // throws sdz::Error naming path and problem
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const TensorInfo* find(const std::string& name) const;  // nullptr when absent
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  void* map_ = nullptr;
  size_t size_ = 0;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Every tensor of a model directory: model.safetensors, or the shards model.safetensors.index.json
// names (its weight_map must agree with what the shards hold).
class SafetensorsSet {
 public:
  explicit SafetensorsSet(const std::string& dir);
  const TensorInfo* find(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorInfo*> index_;
};

// What a writer needs: bytes already in `dtype` (nbytes = numel * dtype_size).
struct TensorBytes {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;
};

// Atomic write (temporary name, fsync, rename); tensors are written in the order given.
void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
// Writes dir/model.safetensors, or when the total exceeds max_shard_bytes,
// dir/model-0000i-of-0000n.safetensors plus model.safetensors.index.json.
void write_safetensors_dir(const std::string& dir, const std::vector<TensorBytes>& tensors,
                           size_t max_shard_bytes = size_t(5) << 30);

}  // namespace sdz::model
