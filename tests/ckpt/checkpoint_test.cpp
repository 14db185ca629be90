// One checkpoint file: bit-exact round trip of every dtype, human-readable layout (h5ls / h5dump),
// atomic write, and clear errors for truncated, flipped, incomplete and mismatched files.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "fixtures.hpp"
#include "sdzero/ckpt/checkpoint.hpp"
#include "sdzero/ckpt/h5io.hpp"
#include "sdzero/core/files.hpp"
#include "sdzero/version_gen.hpp"

using namespace sdz::ckpt;
using ckpt_test::make_state;

namespace {

struct TempDir {
  std::string path = ckpt_test::temp_dir("file");
  ~TempDir() { ckpt_test::remove_tree(path); }
};

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// Expects load_checkpoint(path) to throw CorruptCheckpoint whose text contains `needle`.
void expect_corrupt(const std::string& path, const std::string& needle) {
  try {
    load_checkpoint(path);
    ADD_FAILURE() << "loaded a damaged file: " << path;
  } catch (const CorruptCheckpoint& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << "error must name the file: " << e.what();
  }
}

int64_t offset_of(const std::string& file, const std::string& group, const std::string& name) {
  h5::Handle f = h5::open_file(file);
  h5::Handle g(H5Gopen2(f, group.c_str(), H5P_DEFAULT), H5Gclose);
  return h5::dataset_file_offset(g, name);
}

}  // namespace

TEST(CheckpointFile, RoundTripIsBitExactForEveryPart) {
  TempDir d;
  TrainingState s = make_state(11);
  std::string path = d.path + "/a.h5";
  int64_t bytes = write_checkpoint_file(path, s);
  EXPECT_GT(bytes, parameter_bytes(s));
  TrainingState back = load_checkpoint(path);
  EXPECT_EQ(back.code_version, SDZ_GIT_DESCRIBE);  // filled in by the writer
  s.code_version = SDZ_GIT_DESCRIBE;
  EXPECT_EQ(first_difference(s, back), "");
  EXPECT_EQ(back.model.at("model.embed_tokens.weight").scalar_type(), torch::kBFloat16);
  EXPECT_EQ(back.model.at("model.layers.1.input_layernorm.weight").scalar_type(), torch::kHalf);
  EXPECT_EQ(back.extra.at("scalar").dim(), 0);
  EXPECT_EQ(back.extra.at("empty").sizes(), torch::IntArrayRef({0, 5}));
  EXPECT_EQ(back.extra.at("int64_ids")[0].item<int64_t>(), std::numeric_limits<int64_t>::min());
  // The torch generator continues the same stream after a round trip.
  auto g1 = at::detail::createCPUGenerator(0), g2 = at::detail::createCPUGenerator(0);
  g1.set_state(s.torch_rngs.at("cpu"));
  g2.set_state(back.torch_rngs.at("cpu"));
  EXPECT_TRUE(torch::equal(torch::randn({64}, g1), torch::randn({64}, g2)));
}

TEST(CheckpointFile, SpecialFloatBitPatternsSurvive) {
  TempDir d;
  TrainingState s;
  // NaN payloads, signed zero, infinities and subnormals, as raw bits in every float width.
  std::vector<uint32_t> f32 = {0x7FC00001u, 0xFFC12345u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x00000001u, 0x3F800000u};
  s.model["f32"] = torch::from_blob(f32.data(), {int64_t(f32.size())}, torch::kInt).clone().view(torch::kFloat);
  std::vector<int16_t> f16 = {0x7E01, int16_t(0xFC00), int16_t(0x8000), 0x0001, 0x7C00, 0x3C00};
  s.model["f16"] = torch::from_blob(f16.data(), {int64_t(f16.size())}, torch::kShort).clone().view(torch::kHalf);
  s.model["bf16"] = torch::from_blob(f16.data(), {int64_t(f16.size())}, torch::kShort).clone().view(torch::kBFloat16);
  s.model["f64"] = torch::tensor({-0.0, std::nan("7"), 1e-310, -std::numeric_limits<double>::infinity()}, torch::kDouble);
  s.model["strided"] = torch::arange(12, torch::kFloat).view({3, 4}).t();  // non-contiguous input
  write_checkpoint_file(d.path + "/b.h5", s);
  TrainingState back = load_checkpoint(d.path + "/b.h5");
  back.code_version = s.code_version;
  EXPECT_EQ(first_difference(s, back), "");
  EXPECT_TRUE(torch::equal(back.model.at("strided"), torch::arange(12, torch::kFloat).view({3, 4}).t()));
}

TEST(CheckpointFile, LayoutIsReadableWithHdf5Tools) {
  TempDir d;
  TrainingState s = make_state(3);
  std::string path = d.path + "/c.h5";
  write_checkpoint_file(path, s);
  std::string ls;  // h5ls pads columns; compare with single spaces
  for (char c : run("h5ls -r '" + path + "'"))
    if (!(c == ' ' && !ls.empty() && ls.back() == ' ')) ls += c;
  for (const char* want : {"/model/model.embed_tokens.weight Dataset {64, 16}", "/optimizer/params/lm_head.weight/exp_avg",
                           "/teacher/params/lm_head.weight", "/state/rng/sampler Dataset {4}", "/state/data/train Dataset {3}",
                           "/state/config", "/state/budget/generations", "/state/text/srt_traces"})
    EXPECT_NE(ls.find(want), std::string::npos) << want << "\n" << ls;
  std::string attrs = run("h5dump -A -d '/model/model.embed_tokens.weight' '" + path + "'");
  EXPECT_NE(attrs.find("\"bfloat16\""), std::string::npos) << attrs;
  EXPECT_NE(attrs.find("\"[64, 16]\""), std::string::npos) << attrs;
  EXPECT_NE(attrs.find("crc32c"), std::string::npos) << attrs;
  std::string root = run("h5dump -A -g / '" + path + "'");
  EXPECT_NE(root.find("\"sdzero-checkpoint\""), std::string::npos) << root;
  EXPECT_NE(root.find("\"distill\""), std::string::npos) << root;
  // bf16 is a real HDF5 float type: h5dump prints its values as numbers.
  std::string data = run("h5dump -d '/model/model.layers.0.self_attn.q_norm.weight' '" + path + "'");
  EXPECT_NE(data.find("1, 1, 1, 1"), std::string::npos) << data;
}

TEST(CheckpointFile, WriteLeavesNoTemporaryAndReplacesAtomically) {
  TempDir d;
  std::string path = d.path + "/d.h5";
  write_checkpoint_file(path, make_state(1));
  std::vector<std::string> seen;
  write_checkpoint_file(path, make_state(2), [&](const WriteEvent& e) {
    if (e.stage == WriteEvent::Dataset && seen.empty()) {
      // Mid-write, the old file is still complete at the final name.
      EXPECT_EQ(load_checkpoint(path).config_text, make_state(1).config_text);
      EXPECT_NE(e.path, path);
    }
    seen.push_back(e.stage == WriteEvent::Dataset ? e.dataset : e.stage == WriteEvent::Flushed ? "flushed" : "renamed");
  });
  EXPECT_EQ(load_checkpoint(path).config_text, make_state(2).config_text);
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[seen.size() - 2], "flushed");
  EXPECT_EQ(seen.back(), "renamed");
  EXPECT_EQ(ckpt_test::file_size(path + ".tmp." + std::to_string(::getpid())), -1);
}

TEST(CheckpointFile, TruncatedFileIsACorruptCheckpointAtEveryLength) {
  TempDir d;
  std::string good = d.path + "/good.h5", bad = d.path + "/trunc.h5";
  write_checkpoint_file(good, make_state(4));
  int64_t size = ckpt_test::file_size(good);
  for (int64_t keep : {int64_t(0), int64_t(7), int64_t(512), size / 3, size / 2, size - 4096, size - 1}) {
    ckpt_test::copy_file(good, bad);
    ASSERT_EQ(::truncate(bad.c_str(), keep), 0);
    expect_corrupt(bad, "");
  }
}

TEST(CheckpointFile, FlippedPayloadByteFailsItsChecksumNamingTheDataset) {
  TempDir d;
  std::string path = d.path + "/e.h5";
  write_checkpoint_file(path, make_state(5));
  int64_t off = offset_of(path, "/model", "model.layers.1.mlp.up_proj.weight");
  ASSERT_GT(off, 0);
  ckpt_test::flip_byte(path, off + 100);
  expect_corrupt(path, "checksum mismatch in dataset '/model/model.layers.1.mlp.up_proj.weight'");
  // The config text is checksummed too.
  std::string p2 = d.path + "/f.h5";
  write_checkpoint_file(p2, make_state(5));
  ckpt_test::flip_byte(p2, offset_of(p2, "/state", "config") + 3);
  expect_corrupt(p2, "checksum mismatch in dataset '/state/config'");
}

TEST(CheckpointFile, MissingDatasetIsNamed) {
  TempDir d;
  std::string path = d.path + "/g.h5";
  write_checkpoint_file(path, make_state(6));
  {
    h5::Handle f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    ASSERT_TRUE(f.valid());
    ASSERT_GE(H5Ldelete(f, "/state/policy_version", H5P_DEFAULT), 0);
    ASSERT_GE(H5Ldelete(f, "/optimizer/params/lm_head.weight/step", H5P_DEFAULT), 0);
  }
  expect_corrupt(path, "missing dataset");
}

// /state/text came after format v1's first files: a file without it loads with no texts, while a
// damaged text in a file that has it is still caught by its checksum.
TEST(CheckpointFile, TextGroupIsOptionalButChecked) {
  TempDir d;
  std::string path = d.path + "/t.h5";
  TrainingState s = make_state(8);
  write_checkpoint_file(path, s);
  EXPECT_EQ(load_checkpoint(path).texts.at("srt_traces"), s.texts.at("srt_traces"));
  ckpt_test::flip_byte(path, offset_of(path, "/state/text", "srt_traces") + 5);
  expect_corrupt(path, "srt_traces");
  write_checkpoint_file(path, s);
  {
    h5::Handle f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    ASSERT_TRUE(f.valid());
    ASSERT_GE(H5Ldelete(f, "/state/text", H5P_DEFAULT), 0);
  }
  TrainingState back = load_checkpoint(path);
  EXPECT_TRUE(back.texts.empty());
  back.texts = s.texts;
  back.code_version = s.code_version;
  EXPECT_EQ(first_difference(s, back), "");
}

TEST(CheckpointFile, ReadPhaseAloneAndItsErrors) {
  TempDir d;
  std::string path = d.path + "/p.h5";
  TrainingState s = make_state(2);
  s.phase = kPhaseSrtTrain;
  write_checkpoint_file(path, s);
  EXPECT_EQ(read_phase(path), "srt_train");
  EXPECT_THROW(read_phase(d.path + "/none.h5"), sdz::Error);
  ckpt_test::flip_byte(path, offset_of(path, "/state", "phase") + 1);
  EXPECT_THROW(read_phase(path), CorruptCheckpoint);
}

TEST(CheckpointFile, NotACheckpointAndMissingFileAreClearErrors) {
  TempDir d;
  EXPECT_THROW(load_checkpoint(d.path + "/nope.h5"), sdz::Error);
  sdz::write_file_atomic(d.path + "/text.h5", "this is not HDF5\n");
  expect_corrupt(d.path + "/text.h5", "cannot open checkpoint");
  {  // a valid HDF5 file of another program
    h5::Handle f = h5::create_file(d.path + "/other.h5");
    h5::write_i64(f, "x", 1);
  }
  expect_corrupt(d.path + "/other.h5", "not an sdzero checkpoint");
}

TEST(CheckpointFile, ModelShapeMismatchIsAnErrorNotCorruption) {
  TempDir d;
  std::string path = d.path + "/h.h5";
  TrainingState s = make_state(7);
  write_checkpoint_file(path, s);
  LoadOptions opt;
  for (const auto& [name, t] : s.model) opt.expected_model_shapes[name] = t.sizes().vec();
  EXPECT_NO_THROW(load_checkpoint(path, opt));

  auto expect_mismatch = [&](const LoadOptions& o, const std::string& needle) {
    try {
      load_checkpoint(path, o);
      ADD_FAILURE() << "accepted a mismatched model";
    } catch (const CorruptCheckpoint& e) {
      ADD_FAILURE() << "a shape mismatch is not corruption: " << e.what();
    } catch (const sdz::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  LoadOptions wrong = opt;
  wrong.expected_model_shapes["lm_head.weight"] = {64, 32};
  expect_mismatch(wrong, "parameter 'lm_head.weight' has shape [64, 16] in the checkpoint, the model expects [64, 32]");
  LoadOptions more = opt;
  more.expected_model_shapes["model.norm.weight"] = {16};
  expect_mismatch(more, "no parameter 'model.norm.weight'");
  LoadOptions fewer = opt;
  fewer.expected_model_shapes.erase("lm_head.weight");
  expect_mismatch(fewer, "'lm_head.weight' is not in the configured model");
}

TEST(CheckpointFile, InvalidNamesAreRejectedBeforeAnythingIsWritten) {
  TempDir d;
  TrainingState s = make_state(8);
  s.model["bad/name"] = torch::zeros({2});
  EXPECT_THROW(write_checkpoint_file(d.path + "/i.h5", s), sdz::Error);
  EXPECT_EQ(ckpt_test::file_size(d.path + "/i.h5"), -1);
  EXPECT_EQ(ckpt_test::file_size(d.path + "/i.h5.tmp." + std::to_string(::getpid())), -1);
}

// Damage anywhere in the file (metadata included): the load returns the same state or throws a
// CorruptCheckpoint; it never crashes and never returns different data.
TEST(CheckpointFile, ByteFlipsAnywhereAreDetectedOrHarmless) {
  TempDir d;
  TrainingState s = make_state(9, 8, 1);
  std::string good = d.path + "/good.h5", bad = d.path + "/bad.h5";
  write_checkpoint_file(good, s);
  s.code_version = SDZ_GIT_DESCRIBE;
  int64_t size = ckpt_test::file_size(good);
  int detected = 0, harmless = 0;
  for (int64_t off = 0; off < size; off += 41) {
    ckpt_test::copy_file(good, bad);
    ckpt_test::flip_byte(bad, off);
    try {
      TrainingState back = load_checkpoint(bad);
      ASSERT_EQ(first_difference(s, back), "") << "flip at " << off << " changed data without an error";
      ++harmless;
    } catch (const CorruptCheckpoint&) {
      ++detected;
    }
  }
  EXPECT_GT(detected, 0);
  std::printf("byte flips over %lld bytes: %d detected, %d in unused space\n", (long long)size, detected, harmless);
}

// Not a speed test (nothing is asserted about time): prints write and load throughput of a ~70 MB
// state for the report, and checks the large round trip.
TEST(CheckpointFile, LargeStateThroughput) {
  TempDir d;
  TrainingState s = make_state(12, 512, 4);
  int64_t bytes = 0;
  for (const auto& [n, p] : s.optimizer.params)
    for (const auto& [k, t] : p.slots) bytes += int64_t(t.nbytes());
  bytes += parameter_bytes(s);
  std::string path = d.path + "/big.h5";
  auto t0 = std::chrono::steady_clock::now();
  write_checkpoint_file(path, s);
  auto t1 = std::chrono::steady_clock::now();
  TrainingState back = load_checkpoint(path);
  auto t2 = std::chrono::steady_clock::now();
  s.code_version = back.code_version;
  EXPECT_EQ(first_difference(s, back), "");
  double w = std::chrono::duration<double>(t1 - t0).count(), r = std::chrono::duration<double>(t2 - t1).count();
  std::printf("checkpoint of %.1f MB tensors (file %.1f MB): write+fsync %.3f s (%.0f MB/s), load+verify %.3f s (%.0f MB/s)\n",
              bytes / 1e6, ckpt_test::file_size(path) / 1e6, w, bytes / 1e6 / w, r, bytes / 1e6 / r);
}
