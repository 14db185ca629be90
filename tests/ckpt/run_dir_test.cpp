// Checkpoints of a run directory: naming, `latest`, keep-last-N rotation, resume selection with
// fallback past damaged files.
#include <gtest/gtest.h>

#include "fixtures.hpp"
#include "sdzero/ckpt/h5io.hpp"
#include "sdzero/ckpt/run_dir.hpp"
#include "sdzero/core/files.hpp"

using namespace sdz::ckpt;
using ckpt_test::make_state;

namespace {

struct RunDir {
  std::string path = ckpt_test::temp_dir("run");
  ~RunDir() { ckpt_test::remove_tree(path); }
};

std::vector<int64_t> steps_of(const std::string& run) {
  std::vector<int64_t> out;
  for (const auto& [step, path] : list_checkpoints(run)) out.push_back(step);
  return out;
}

}  // namespace

TEST(RunDir, NamesLatestPointerAndRotation) {
  RunDir r;
  EXPECT_EQ(checkpoint_path(r.path, 42), r.path + "/checkpoints/step_00000042.h5");
  EXPECT_TRUE(list_checkpoints(r.path).empty());
  SaveOptions opt;
  opt.keep_last = 2;
  for (int64_t step : {10, 20, 30, 40}) {
    std::string p = save_checkpoint(r.path, make_state(1, 8, 1, step), opt);
    EXPECT_EQ(p, checkpoint_path(r.path, step));
    EXPECT_EQ(sdz::read_file(latest_pointer_path(r.path)), "step_000000" + std::to_string(step) + ".h5\n");
  }
  EXPECT_EQ(steps_of(r.path), (std::vector<int64_t>{30, 40}));
  opt.keep_last = 0;  // keep all
  save_checkpoint(r.path, make_state(1, 8, 1, 50), opt);
  save_checkpoint(r.path, make_state(1, 8, 1, 60), opt);
  EXPECT_EQ(steps_of(r.path), (std::vector<int64_t>{30, 40, 50, 60}));
}

TEST(RunDir, UnrelatedFilesAndLeftoverTemporariesAreIgnoredThenCleaned) {
  RunDir r;
  std::string dir = checkpoint_dir(r.path);
  sdz::make_dirs(dir);
  sdz::write_file_atomic(dir + "/step_00000099.h5.tmp.12345", "partial");
  sdz::write_file_atomic(dir + "/notes.txt", "mine");
  sdz::write_file_atomic(dir + "/step_12.h5", "too few digits");
  EXPECT_TRUE(list_checkpoints(r.path).empty());
  save_checkpoint(r.path, make_state(1, 8, 1, 5));
  EXPECT_FALSE(sdz::file_exists(dir + "/step_00000099.h5.tmp.12345"));
  EXPECT_TRUE(sdz::file_exists(dir + "/notes.txt"));
  EXPECT_EQ(steps_of(r.path), (std::vector<int64_t>{5}));
}

TEST(Resume, NoneAutoAndExplicitPath) {
  RunDir r;
  EXPECT_FALSE(resolve_resume("none", r.path).has_value());
  EXPECT_FALSE(resolve_resume("", r.path).has_value());
  EXPECT_FALSE(resolve_resume("auto", r.path).has_value());  // nothing yet: fresh start
  save_checkpoint(r.path, make_state(1, 8, 1, 10));
  save_checkpoint(r.path, make_state(2, 8, 1, 20));
  auto rp = resolve_resume("auto", r.path);
  ASSERT_TRUE(rp.has_value());
  EXPECT_EQ(rp->state.step, 20);
  EXPECT_EQ(rp->path, checkpoint_path(r.path, 20));
  EXPECT_TRUE(rp->skipped.empty());
  auto explicit_rp = resolve_resume(checkpoint_path(r.path, 10), "/nonexistent");
  ASSERT_TRUE(explicit_rp.has_value());
  EXPECT_EQ(explicit_rp->state.step, 10);
  TrainingState want = make_state(1, 8, 1, 10);
  want.code_version = explicit_rp->state.code_version;
  EXPECT_EQ(first_difference(want, explicit_rp->state), "");
}

TEST(Resume, AutoFallsBackPastTruncatedAndFlippedFilesWithAWarning) {
  RunDir r;
  for (int64_t step : {10, 20, 30}) save_checkpoint(r.path, make_state(uint64_t(step), 8, 1, step));
  ASSERT_EQ(::truncate(checkpoint_path(r.path, 30).c_str(), ckpt_test::file_size(checkpoint_path(r.path, 30)) / 2), 0);
  {
    h5::Handle f = h5::open_file(checkpoint_path(r.path, 20));
    h5::Handle g(H5Gopen2(f, "/model", H5P_DEFAULT), H5Gclose);
    int64_t off = h5::dataset_file_offset(g, "lm_head.weight");
    f.reset();
    ckpt_test::flip_byte(checkpoint_path(r.path, 20), off + 5);
  }
  ckpt_test::LogCapture log;
  auto rp = resolve_resume("auto", r.path);
  ASSERT_TRUE(rp.has_value());
  EXPECT_EQ(rp->state.step, 10);
  ASSERT_EQ(rp->skipped.size(), 2u);
  EXPECT_NE(rp->skipped[0].find("step_00000030.h5"), std::string::npos) << rp->skipped[0];
  EXPECT_NE(rp->skipped[1].find("checksum mismatch in dataset '/model/lm_head.weight'"), std::string::npos) << rp->skipped[1];
  std::string text = log.text();
  EXPECT_NE(text.find("WARN: resume: " + checkpoint_path(r.path, 30) + " is damaged"), std::string::npos) << text;
  EXPECT_NE(text.find("WARN: resume: " + checkpoint_path(r.path, 20) + " is damaged"), std::string::npos) << text;
}

TEST(Resume, ExplicitDamagedPathFailsClearly) {
  RunDir r;
  save_checkpoint(r.path, make_state(1, 8, 1, 10));
  save_checkpoint(r.path, make_state(1, 8, 1, 20));
  std::string bad = checkpoint_path(r.path, 20);
  ASSERT_EQ(::truncate(bad.c_str(), 1000), 0);
  try {
    resolve_resume(bad, r.path);
    FAIL() << "resumed from a truncated file";
  } catch (const sdz::Error& e) {
    std::string w = e.what();
    EXPECT_NE(w.find("cannot resume from " + bad), std::string::npos) << w;
    EXPECT_NE(w.find("truncated"), std::string::npos) << w;  // HDF5's own diagnosis is kept
  }
  EXPECT_THROW(resolve_resume(r.path + "/checkpoints/step_00000077.h5", r.path), sdz::Error);
}

TEST(Resume, AutoWithOnlyDamagedFilesIsAnErrorNotAFreshStart) {
  RunDir r;
  save_checkpoint(r.path, make_state(1, 8, 1, 10));
  ASSERT_EQ(::truncate(checkpoint_path(r.path, 10).c_str(), 100), 0);
  ckpt_test::LogCapture log;
  try {
    resolve_resume("auto", r.path);
    FAIL() << "started without a usable checkpoint";
  } catch (const CorruptCheckpoint&) {
    FAIL() << "must be a plain Error";
  } catch (const sdz::Error& e) {
    EXPECT_NE(std::string(e.what()).find("all 1 checkpoint(s) are damaged"), std::string::npos) << e.what();
  }
}

TEST(Resume, ShapeMismatchDoesNotFallBack) {
  RunDir r;
  save_checkpoint(r.path, make_state(1, 8, 1, 10));
  save_checkpoint(r.path, make_state(1, 8, 1, 20));
  LoadOptions opt;
  opt.expected_model_shapes["lm_head.weight"] = {1, 1};
  try {
    resolve_resume("auto", r.path, opt);
    FAIL() << "accepted a mismatched model";
  } catch (const CorruptCheckpoint& e) {
    FAIL() << "a shape mismatch is not damage: " << e.what();
  } catch (const sdz::Error& e) {
    EXPECT_NE(std::string(e.what()).find("step_00000020.h5"), std::string::npos) << e.what();
  }
}

TEST(RunDir, SavingAnOlderStepSetsNewerTimelineAside) {
  RunDir r;
  for (int64_t step : {10, 20, 30}) save_checkpoint(r.path, make_state(1, 8, 1, step));
  // Resumed from step 10 (say 20 and 30 were rejected); the run goes on and saves step 11.
  ckpt_test::LogCapture log;
  save_checkpoint(r.path, make_state(2, 8, 1, 11));
  EXPECT_EQ(steps_of(r.path), (std::vector<int64_t>{10, 11}));
  EXPECT_TRUE(sdz::file_exists(checkpoint_path(r.path, 30) + ".superseded"));
  EXPECT_NE(log.text().find("renaming that file"), std::string::npos);
  auto rp = resolve_resume("auto", r.path);
  ASSERT_TRUE(rp.has_value());
  EXPECT_EQ(rp->state.step, 11);
}
