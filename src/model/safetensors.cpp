// safetensors reader (mmap) and writer. Format: https://github.com/huggingface/safetensors (README:
// 8-byte little-endian header size, JSON header, byte buffer; offsets relative to the buffer).
#include "sdzero/model/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"

namespace sdz::model {

using json = nlohmann::json;

size_t dtype_size(DType d) { return d == DType::F32 ? 4 : 2; }
const char* dtype_name(DType d) { return d == DType::F32 ? "F32" : d == DType::BF16 ? "BF16" : "F16"; }

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

namespace {

const size_t kMaxHeader = size_t(100) << 20;  // the reference implementation's limit

Error bad(const std::string& path, const std::string& what) {
  return Error("corrupt safetensors file: " + what, path, "re-download or re-export the file");
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(std::string("cannot open safetensors file: ") + std::strerror(errno), path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw Error(std::string("cannot stat safetensors file: ") + std::strerror(errno), path);
  }
  size_ = size_t(st.st_size);
  if (size_ < 8) {
    ::close(fd);
    throw bad(path, "file is " + std::to_string(size_) + " bytes, shorter than the 8-byte header size");
  }
  map_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw Error(std::string("cannot map safetensors file: ") + std::strerror(errno), path);
  }
  try {
    const uint8_t* base = static_cast<const uint8_t*>(map_);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | base[i];
    if (n > kMaxHeader || n > size_ - 8)
      throw bad(path, "header size " + std::to_string(n) + " exceeds the file (" + std::to_string(size_) + " bytes)");
    json h;
    try {
      h = json::parse(reinterpret_cast<const char*>(base + 8), reinterpret_cast<const char*>(base + 8 + n));
    } catch (const json::parse_error& e) {
      throw bad(path, std::string("header is not valid JSON (") + e.what() + ")");
    }
    if (!h.is_object()) throw bad(path, "header is not a JSON object");
    const uint8_t* data = base + 8 + n;
    const size_t data_size = size_ - 8 - size_t(n);
    for (auto it = h.begin(); it != h.end(); ++it) {
      const std::string& name = it.key();
      const json& e = it.value();
      if (name == "__metadata__") {
        if (!e.is_object()) throw bad(path, "__metadata__ is not an object");
        for (auto m = e.begin(); m != e.end(); ++m) {
          if (!m.value().is_string()) throw bad(path, "__metadata__ value of \"" + m.key() + "\" is not a string");
          metadata_[m.key()] = m.value().get<std::string>();
        }
        continue;
      }
      const std::string at = "tensor \"" + name + "\": ";
      if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
        throw bad(path, at + "entry needs dtype, shape and data_offsets");
      TensorInfo t;
      t.name = name;
      t.file = path;
      const json& dt = e.at("dtype");
      const std::string d = dt.is_string() ? dt.get<std::string>() : dt.dump();
      if (d == "F32") t.dtype = DType::F32;
      else if (d == "BF16") t.dtype = DType::BF16;
      else if (d == "F16") t.dtype = DType::F16;
      else throw Error("unsupported safetensors dtype " + d + " for tensor \"" + name + "\"", path,
                       "supported: F32, BF16, F16");
      const json& sh = e.at("shape");
      if (!sh.is_array()) throw bad(path, at + "shape is not a list");
      uint64_t numel = 1;
      for (const json& s : sh) {
        if (!s.is_number_unsigned()) throw bad(path, at + "shape entries must be non-negative integers");
        const uint64_t v = s.get<uint64_t>();
        if (v != 0 && numel > (uint64_t(1) << 60) / v) throw bad(path, at + "shape is impossibly large");
        numel *= v;
        t.shape.push_back(int64_t(v));
      }
      const json& off = e.at("data_offsets");
      if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
        throw bad(path, at + "data_offsets must be two non-negative integers");
      const uint64_t b = off[0].get<uint64_t>(), en = off[1].get<uint64_t>();
      if (b > en || en > data_size)
        throw bad(path, at + "data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                            "] lie outside the data (" + std::to_string(data_size) + " bytes; truncated file?)");
      if (en - b != numel * dtype_size(t.dtype))
        throw bad(path, at + "holds " + std::to_string(en - b) + " bytes but its shape and dtype need " +
                            std::to_string(numel * dtype_size(t.dtype)));
      t.data = data + b;
      t.nbytes = size_t(en - b);
      index_[name] = tensors_.size();
      tensors_.push_back(std::move(t));
    }
  } catch (...) {
    ::munmap(map_, size_);
    map_ = nullptr;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, size_);
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

SafetensorsSet::SafetensorsSet(const std::string& dir) : dir_(dir) {
  const std::string single = dir + "/model.safetensors", index = dir + "/model.safetensors.index.json";
  if (file_exists(index)) {
    json j;
    try {
      j = json::parse(read_file(index));
    } catch (const json::parse_error& e) {
      throw Error(std::string("index is not valid JSON: ") + e.what(), index);
    }
    if (!j.is_object() || !j.contains("weight_map") || !j.at("weight_map").is_object())
      throw Error("index has no weight_map object", index);
    std::map<std::string, std::string> wm;
    std::set<std::string> shards;
    for (auto it = j.at("weight_map").begin(); it != j.at("weight_map").end(); ++it) {
      if (!it.value().is_string()) throw Error("weight_map entry \"" + it.key() + "\" is not a file name", index);
      const std::string f = it.value().get<std::string>();
      if (f.find('/') != std::string::npos) throw Error("weight_map names a file outside the directory: " + f, index);
      wm[it.key()] = f;
      shards.insert(f);
    }
    std::map<std::string, const SafetensorsFile*> by_name;
    for (const std::string& f : shards) {
      files_.push_back(std::make_unique<SafetensorsFile>(dir + "/" + f));
      by_name[f] = files_.back().get();
    }
    for (const auto& [name, f] : wm) {
      const TensorInfo* t = by_name[f]->find(name);
      if (!t) throw Error("index says tensor \"" + name + "\" is in " + f + " but that shard lacks it", index);
      index_[name] = t;
    }
    for (const auto& file : files_)
      for (const TensorInfo& t : file->tensors())
        if (!wm.count(t.name))
          throw Error("shard " + file->path() + " holds tensor \"" + t.name + "\" that the index does not list", index);
  } else if (file_exists(single)) {
    files_.push_back(std::make_unique<SafetensorsFile>(single));
    for (const TensorInfo& t : files_.back()->tensors()) index_[t.name] = &t;
  } else {
    throw Error("no model.safetensors or model.safetensors.index.json", dir,
                "point at a Hugging Face model directory");
  }
}

const TensorInfo* SafetensorsSet::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second;
}

std::vector<std::string> SafetensorsSet::names() const {
  std::vector<std::string> out;
  for (const auto& kv : index_) out.push_back(kv.first);
  return out;
}

// ---- writer ----

void write_safetensors(const std::string& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json h = json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t off = 0;
  std::set<std::string> seen;
  for (const TensorBytes& t : tensors) {
    if (!seen.insert(t.name).second) throw Error("duplicate tensor name \"" + t.name + "\"", path);
    int64_t numel = 1;
    for (int64_t s : t.shape) numel *= s;
    if (t.nbytes != size_t(numel) * dtype_size(t.dtype))
      throw Error("tensor \"" + t.name + "\": byte size does not match shape and dtype", path);
    h[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {off, off + t.nbytes}}};
    off += t.nbytes;
  }
  std::string header = h.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned, as the reference writer does
  std::string out;
  out.reserve(8 + header.size() + off);
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(char((n >> (8 * i)) & 0xff));
  out += header;
  for (const TensorBytes& t : tensors) out.append(static_cast<const char*>(t.data), t.nbytes);
  write_file_atomic(path, out);
}

void write_safetensors_dir(const std::string& dir, const std::vector<TensorBytes>& tensors, size_t max_shard_bytes) {
  make_dirs(dir);
  size_t total = 0;
  for (const TensorBytes& t : tensors) total += t.nbytes;
  if (total <= max_shard_bytes) {
    write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
    return;
  }
  std::vector<std::vector<TensorBytes>> shards(1);
  size_t cur = 0;
  for (const TensorBytes& t : tensors) {
    if (cur > 0 && cur + t.nbytes > max_shard_bytes) {
      shards.emplace_back();
      cur = 0;
    }
    shards.back().push_back(t);
    cur += t.nbytes;
  }
  json wm = json::object();
  char buf[64];
  for (size_t i = 0; i < shards.size(); ++i) {
    std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    write_safetensors(dir + "/" + buf, shards[i], {{"format", "pt"}});
    for (const TensorBytes& t : shards[i]) wm[t.name] = buf;
  }
  json idx = {{"metadata", {{"total_size", total}}}, {"weight_map", wm}};
  write_file_atomic(dir + "/model.safetensors.index.json", idx.dump(2) + "\n");
}

}  // namespace sdz::model
