#include "sdzero/pipeline/wire.hpp"

#include <torch/torch.h>

#include <cstring>

namespace sdz::pipeline {

void write_tensor(ByteWriter& w, const torch::Tensor& t) {
  w.put<uint8_t>(t.defined() ? 1 : 0);
  if (!t.defined()) return;
  torch::Tensor c = t.contiguous().cpu();
  w.put<int8_t>(int8_t(c.scalar_type()));
  w.put_vec(std::vector<int64_t>(c.sizes().begin(), c.sizes().end()));
  std::vector<uint8_t> bytes(c.nbytes());
  if (!bytes.empty()) std::memcpy(bytes.data(), c.data_ptr(), bytes.size());
  w.put_vec(bytes);
}

torch::Tensor read_tensor(ByteReader& r) {
  if (r.get<uint8_t>() == 0) return {};
  auto type = torch::ScalarType(r.get<int8_t>());
  if (type != torch::kFloat32 && type != torch::kInt64 && type != torch::kFloat64 && type != torch::kBFloat16 &&
      type != torch::kInt32)
    throw Error("malformed buffer: unexpected tensor dtype", "pipeline wire");
  std::vector<int64_t> shape = r.get_vec<int64_t>();
  std::vector<uint8_t> bytes = r.get_vec<uint8_t>();
  torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(type));
  if (size_t(t.nbytes()) != bytes.size()) throw Error("malformed buffer: tensor size mismatch", "pipeline wire");
  if (!bytes.empty()) std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

void write_routed(ByteWriter& w, const Routed& r) {
  const algo::Trajectory& t = r.trajectory;
  w.put<int64_t>(r.position);
  w.put<int64_t>(t.question_id);
  w.put<int64_t>(t.sample_index);
  w.put<int64_t>(t.policy_version);
  w.put_vec(t.prompt_ids);
  w.put_vec(t.response_ids);
  w.put_vec(t.logprobs);
  w.put<float>(t.reward);
  w.put<float>(t.advantage);
  w.put_vec(t.teacher_prompt_ids);
  w.put<uint8_t>(r.has_signal ? 1 : 0);
  if (r.has_signal) {
    write_tensor(w, r.signal.topk_ids);
    write_tensor(w, r.signal.topk_logits);
    write_tensor(w, r.signal.full_logprobs);
    write_tensor(w, r.signal.token_logprobs);
  }
}

Routed read_routed(ByteReader& rd) {
  Routed r;
  algo::Trajectory& t = r.trajectory;
  r.position = rd.get<int64_t>();
  t.question_id = rd.get<int64_t>();
  t.sample_index = rd.get<int64_t>();
  t.policy_version = rd.get<int64_t>();
  t.prompt_ids = rd.get_vec<int32_t>();
  t.response_ids = rd.get_vec<int32_t>();
  t.logprobs = rd.get_vec<float>();
  t.reward = rd.get<float>();
  t.advantage = rd.get<float>();
  t.teacher_prompt_ids = rd.get_vec<int32_t>();
  r.has_signal = rd.get<uint8_t>() != 0;
  if (r.has_signal) {
    r.signal.topk_ids = read_tensor(rd);
    r.signal.topk_logits = read_tensor(rd);
    r.signal.full_logprobs = read_tensor(rd);
    r.signal.token_logprobs = read_tensor(rd);
  }
  return r;
}

std::vector<uint8_t> pack(const std::vector<Routed>& items) {
  ByteWriter w;
  w.put<uint64_t>(items.size());
  for (const auto& it : items) write_routed(w, it);
  return std::move(w.bytes());
}

std::vector<Routed> unpack(const std::vector<uint8_t>& bytes) {
  std::vector<Routed> out;
  if (bytes.empty()) return out;
  ByteReader r(bytes);
  uint64_t n = r.get<uint64_t>();
  for (uint64_t i = 0; i < n; ++i) out.push_back(read_routed(r));
  if (!r.done()) throw Error("malformed buffer: trailing bytes after the trajectories", "pipeline wire");
  return out;
}

}  // namespace sdz::pipeline
