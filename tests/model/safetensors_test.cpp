// safetensors: bitwise round trips for every dtype, single and sharded; every bad-file case is a clear
// sdz::Error; models load by Hugging Face names and refuse missing, unexpected or mis-shaped tensors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <limits>

#include "reference.hpp"
#include "sdzero/core/error.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/model/safetensors.hpp"
#include "sdzero/model/weights.hpp"

using namespace sdz::model;
namespace fs = std::filesystem;

namespace {

struct TmpDir {
  std::string path;
  TmpDir() {
    char t[] = "/tmp/sdz_st_XXXXXX";
    path = mkdtemp(t);
  }
  ~TmpDir() { fs::remove_all(path); }
};

std::string error_of(const std::string& path) {
  try {
    SafetensorsFile f(path);
  } catch (const sdz::Error& e) {
    return e.what();
  }
  return "";
}

// Raw file with the given header text and `data` bytes after it.
void raw(const std::string& path, const std::string& header, size_t data, uint64_t claimed = UINT64_MAX) {
  std::string s;
  uint64_t n = claimed == UINT64_MAX ? header.size() : claimed;
  for (int i = 0; i < 8; ++i) s.push_back(char((n >> (8 * i)) & 0xff));
  s += header;
  s.append(data, '\x01');
  sdz::write_file_atomic(path, s);
}

TEST(Safetensors, RoundTripEveryDtypeBitwise) {
  TmpDir d;
  for (DType dt : {DType::F32, DType::BF16, DType::F16}) {
    auto a = torch::randn({3, 5}).to(scalar_type(dt));
    auto b = torch::randn({7}).to(scalar_type(dt));
    auto e = torch::zeros({0, 4}).to(scalar_type(dt));
    std::vector<TensorBytes> ts;
    for (auto [n, t] : std::vector<std::pair<std::string, torch::Tensor>>{{"a.weight", a}, {"b", b}, {"empty", e}})
      ts.push_back({n, dt, std::vector<int64_t>(t.sizes().begin(), t.sizes().end()), t.data_ptr(),
                    size_t(t.numel()) * t.element_size()});
    const std::string p = d.path + "/x_" + dtype_name(dt) + ".safetensors";
    write_safetensors(p, ts, {{"format", "pt"}});
    SafetensorsFile f(p);
    ASSERT_EQ(f.tensors().size(), 3u);
    EXPECT_EQ(f.metadata().at("format"), "pt");
    const TensorInfo* ta = f.find("a.weight");
    ASSERT_NE(ta, nullptr);
    EXPECT_EQ(ta->dtype, dt);
    EXPECT_EQ(ta->shape, (std::vector<int64_t>{3, 5}));
    EXPECT_EQ(std::memcmp(ta->data, a.data_ptr(), ta->nbytes), 0);
    EXPECT_TRUE(torch::equal(tensor_from_info(*f.find("b")), b));
    EXPECT_EQ(f.find("empty")->numel(), 0);
    EXPECT_EQ(f.find("missing"), nullptr);
  }
}

TEST(Safetensors, ShardedDirectoryRoundTrip) {
  TmpDir d;
  std::vector<torch::Tensor> keep;
  std::vector<TensorBytes> ts;
  for (int i = 0; i < 5; ++i) {
    keep.push_back(torch::randn({100}));
    ts.push_back({"t" + std::to_string(i), DType::F32, {100}, keep.back().data_ptr(), 400});
  }
  write_safetensors_dir(d.path, ts, 900);  // two tensors per shard
  EXPECT_TRUE(sdz::file_exists(d.path + "/model.safetensors.index.json"));
  EXPECT_TRUE(sdz::file_exists(d.path + "/model-00003-of-00003.safetensors"));
  SafetensorsSet set(d.path);
  ASSERT_EQ(set.names().size(), 5u);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(std::memcmp(set.find("t" + std::to_string(i))->data, keep[size_t(i)].data_ptr(), 400), 0);
  // An index naming a tensor its shard lacks is an error.
  auto idx = sdz::read_file(d.path + "/model.safetensors.index.json");
  auto pos = idx.find("\"t4\"");
  idx.replace(pos, 4, "\"t9\"");
  sdz::write_file_atomic(d.path + "/model.safetensors.index.json", idx);
  try {
    SafetensorsSet bad(d.path);
    FAIL() << "inconsistent index accepted";
  } catch (const sdz::Error& e) {
    EXPECT_NE(std::string(e.what()).find("t9"), std::string::npos) << e.what();
  }
}

TEST(Safetensors, BadFilesAreClearErrors) {
  TmpDir d;
  const std::string p = d.path + "/bad.safetensors";
  auto t = torch::arange(6, torch::kFloat32);
  write_safetensors(p, {{"x", DType::F32, {6}, t.data_ptr(), 24}});
  const std::string good = sdz::read_file(p);
  // Truncated data.
  sdz::write_file_atomic(p, good.substr(0, good.size() - 5));
  EXPECT_NE(error_of(p).find("outside the data"), std::string::npos) << error_of(p);
  // Shorter than the size field.
  sdz::write_file_atomic(p, good.substr(0, 5));
  EXPECT_NE(error_of(p).find("shorter than"), std::string::npos) << error_of(p);
  // Header size larger than the file.
  raw(p, "{}", 0, 1000);
  EXPECT_NE(error_of(p).find("exceeds the file"), std::string::npos) << error_of(p);
  raw(p, "{}", 0, uint64_t(1) << 62);
  EXPECT_NE(error_of(p).find("exceeds the file"), std::string::npos) << error_of(p);
  // Corrupt JSON, wrong types, inconsistent sizes, unknown dtype.
  raw(p, "{\"x\": {\"dtype\": \"F32\", ", 0);
  EXPECT_NE(error_of(p).find("not valid JSON"), std::string::npos) << error_of(p);
  raw(p, "[1,2]", 0);
  EXPECT_NE(error_of(p).find("not a JSON object"), std::string::npos);
  raw(p, R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 8);
  EXPECT_NE(error_of(p).find("need 8"), std::string::npos) << error_of(p);
  raw(p, R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8);
  EXPECT_NE(error_of(p).find("non-negative"), std::string::npos) << error_of(p);
  raw(p, R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8);
  EXPECT_NE(error_of(p).find("outside the data"), std::string::npos) << error_of(p);
  raw(p, R"({"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8);
  EXPECT_NE(error_of(p).find("unsupported safetensors dtype I64"), std::string::npos) << error_of(p);
  raw(p, R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8);
  EXPECT_NE(error_of(p).find("impossibly large"), std::string::npos) << error_of(p);
  raw(p, R"({"x":{"shape":[1],"data_offsets":[0,4]}})", 4);
  EXPECT_NE(error_of(p).find("needs dtype"), std::string::npos) << error_of(p);
  EXPECT_NE(error_of(d.path + "/nope.safetensors").find("cannot open"), std::string::npos);
  EXPECT_NE(error_of(p).find(p), std::string::npos);  // names the file
  EXPECT_THROW(SafetensorsSet empty_dir(d.path + "/none"), sdz::Error);
}

TEST(Weights, ModelRoundTripByHfNames) {
  TmpDir d;
  for (Family f : {Family::Qwen3, Family::Olmo3}) {
    Transformer m(testref::tiny(f));
    m.init_random(3);
    for (DType dt : {DType::F32, DType::BF16}) {
      const std::string dir = d.path + "/" + family_name(f) + dtype_name(dt);
      save_model_dir(m, dir, dt, dt == DType::F32 ? 20000 : size_t(1) << 30);  // F32: sharded
      auto back = load_model_dir(dir);
      EXPECT_EQ(back->config().to_hf_json().size() > 0, true);
      for (size_t i = 0; i < m.named_parameters().size(); ++i) {
        const auto& [name, p] = m.named_parameters()[i];
        auto want = p.to(scalar_type(dt)).to(torch::kFloat32);
        EXPECT_TRUE(torch::equal(back->named_parameters()[i].second, want)) << name << " " << dtype_name(dt);
      }
    }
  }
  EXPECT_TRUE(sdz::file_exists(d.path + "/qwen3F32/model.safetensors.index.json"));
  EXPECT_TRUE(sdz::file_exists(d.path + "/qwen3BF16/model.safetensors"));
}

TEST(Weights, MissingUnexpectedMisShaped) {
  TmpDir d;
  Transformer m(testref::tiny(Family::Olmo3));
  auto write = [&](const std::vector<std::pair<std::string, torch::Tensor>>& ts) {
    std::vector<TensorBytes> out;
    for (const auto& [n, t] : ts)
      out.push_back({n, DType::F32, std::vector<int64_t>(t.sizes().begin(), t.sizes().end()), t.data_ptr(),
                     size_t(t.numel()) * 4});
    write_safetensors(d.path + "/model.safetensors", out);
  };
  auto expect_error = [&](const std::string& needle) {
    try {
      SafetensorsSet set(d.path);
      load_weights(m, set);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const sdz::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  std::vector<std::pair<std::string, torch::Tensor>> all;
  for (const auto& [n, p] : m.named_parameters()) all.push_back({n, p.clone()});
  auto missing = all;
  missing.pop_back();
  write(missing);
  expect_error("missing tensor \"lm_head.weight\"");
  auto extra = all;
  extra.push_back({"model.layers.9.mlp.up_proj.weight", torch::zeros({2})});
  write(extra);
  expect_error("unexpected tensor \"model.layers.9.mlp.up_proj.weight\"");
  auto shaped = all;
  shaped[1].second = torch::zeros({3, 3});
  write(shaped);
  expect_error("has shape [3, 3], the config needs [32, 32]");
  auto nan = all;
  nan[2].second = nan[2].second.clone();
  nan[2].second.view(-1)[0] = std::numeric_limits<float>::quiet_NaN();
  write(nan);
  expect_error("tensor \"" + nan[2].first + "\" holds NaN or Inf values");
  write(all);
  SafetensorsSet ok(d.path);
  EXPECT_NO_THROW(load_weights(m, ok));
}

}  // namespace
