// What `sdzero inspect` prints, for a good file and a damaged one.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "sdzero/ckpt/checkpoint.hpp"
#include "sdzero/ckpt/h5io.hpp"
#include "sdzero/ckpt/inspect.hpp"

using namespace sdz::ckpt;

namespace {
// Column widths are cosmetic: compare with runs of spaces collapsed.
std::string squeeze(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
  return out;
}
}  // namespace

TEST(Inspect, ReportsMetadataParametersAndEveryDataset) {
  std::string dir = ckpt_test::temp_dir("inspect");
  std::string path = dir + "/a.h5";
  TrainingState s = ckpt_test::make_state(2);
  s.code_version = "v9.9-test";
  write_checkpoint_file(path, s);
  Inspection in = inspect_checkpoint(path);
  EXPECT_EQ(in.bad_datasets(), 0);
  EXPECT_EQ(in.parameters, parameter_count(s));
  EXPECT_EQ(in.parameter_bytes, parameter_bytes(s));
  std::string text = squeeze(format_inspection(in));
  for (const char* want : {"step 7", "policy version 10", "phase distill", "code version v9.9-test",
                           "teacher frozen, synced at version 0, 1 own tensors",
                           "data.train epoch 2, position 17, consumed 1041", "budget.generations 9000",
                           "reward_mean", "0 damaged", "bfloat16 [64, 16]", "/model/model.embed_tokens.weight",
                           "config:\n[run]\nname = test"})
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;

  // One damaged payload: reported on its line, the rest still listed.
  int64_t off;
  {
    h5::Handle f = h5::open_file(path);
    h5::Handle g(H5Gopen2(f, "/optimizer/params/lm_head.weight", H5P_DEFAULT), H5Gclose);
    off = h5::dataset_file_offset(g, "exp_avg");
  }
  ckpt_test::flip_byte(path, off + 8);
  Inspection bad = inspect_checkpoint(path);
  EXPECT_EQ(bad.bad_datasets(), 1);
  std::string bt = squeeze(format_inspection(bad));
  EXPECT_NE(bt.find("DAMAGED float32 [64, 16]"), std::string::npos) << bt;
  EXPECT_NE(bt.find("checksum mismatch in dataset '/optimizer/params/lm_head.weight/exp_avg'"), std::string::npos) << bt;
  EXPECT_EQ(bad.datasets.size(), in.datasets.size());

  ASSERT_EQ(::truncate(path.c_str(), 2000), 0);
  EXPECT_THROW(inspect_checkpoint(path), CorruptCheckpoint);
  ckpt_test::remove_tree(dir);
}

TEST(Inspect, AnotherProgramsHdf5FileIsNotListed) {
  std::string dir = ckpt_test::temp_dir("inspect-foreign");
  std::string path = dir + "/foreign.h5";
  {
    h5::Handle f = h5::create_file(path);
    h5::Handle g = h5::create_group(f, "optimizer", path);
    h5::write_i64(g, "step", 3);
  }
  try {
    inspect_checkpoint(path);
    FAIL() << "a foreign HDF5 file was inspected";
  } catch (const sdz::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not an sdzero checkpoint"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("foreign.h5"), std::string::npos) << e.what();
  }
  ckpt_test::remove_tree(dir);
}
