// defines: ByteWriter / ByteReader — the one flat serialisation used for MPI exchanges: PODs and
// vectors of PODs appended in order. The reader checks every read against the buffer's end, so a
// malformed buffer is an error, never an out-of-bounds read.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "sdzero/core/error.hpp"

namespace sdz {

class ByteWriter {
 public:
  template <class T>
  void put(const T& v) {
    static_assert(std::is_trivially_copyable<T>::value, "POD only");
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    buf_.insert(buf_.end(), p, p + sizeof(T));
  }
  template <class T>
  void put_vec(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable<T>::value, "POD only");
    put<uint64_t>(v.size());
    const auto* p = reinterpret_cast<const uint8_t*>(v.data());
    buf_.insert(buf_.end(), p, p + v.size() * sizeof(T));
  }
  void put_str(const std::string& s) {
    put<uint64_t>(s.size());
    buf_.insert(buf_.end(), s.begin(), s.end());
  }
  std::vector<uint8_t>& bytes() { return buf_; }

 private:
  std::vector<uint8_t> buf_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  explicit ByteReader(const std::vector<uint8_t>& b) : ByteReader(b.data(), b.size()) {}
  template <class T>
  T get() {
    T v;
    need(sizeof(T));
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  template <class T>
  std::vector<T> get_vec() {
    uint64_t n = get<uint64_t>();
    if (n > uint64_t(end_ - p_) / sizeof(T)) throw Error("malformed buffer: vector longer than the data", "dist");
    std::vector<T> v(static_cast<size_t>(n));
    std::memcpy(v.data(), p_, size_t(n) * sizeof(T));
    p_ += size_t(n) * sizeof(T);
    return v;
  }
  std::string get_str() {
    uint64_t n = get<uint64_t>();
    need(size_t(n));
    std::string s(reinterpret_cast<const char*>(p_), size_t(n));
    p_ += n;
    return s;
  }
  bool done() const { return p_ == end_; }

 private:
  void need(size_t n) const {
    if (n > size_t(end_ - p_)) throw Error("malformed buffer: read past its end", "dist");
  }
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace sdz
