// The wire form of routed trajectories: a round trip keeps every field and tensor bit for bit, and
// a damaged buffer is an error.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "sdzero/core/error.hpp"
#include "sdzero/pipeline/wire.hpp"

using sdz::pipeline::Routed;

TEST(Wire, RoundTripKeepsTrajectoriesAndSignals) {
  std::vector<Routed> items(2);
  items[0].position = 5;
  items[0].trajectory.question_id = 17;
  items[0].trajectory.sample_index = 3;
  items[0].trajectory.policy_version = 9;
  items[0].trajectory.prompt_ids = {1, 2, 3};
  items[0].trajectory.response_ids = {4, 5};
  items[0].trajectory.logprobs = {-0.5f, -1.25f};
  items[0].trajectory.reward = 1.f;
  items[0].trajectory.advantage = -0.75f;
  items[0].trajectory.teacher_prompt_ids = {7};
  items[0].has_signal = true;
  items[0].signal.topk_ids = torch::randint(0, 50, {2, 4}, torch::kInt64);
  items[0].signal.topk_logits = torch::randn({2, 4});
  items[0].signal.token_logprobs = torch::randn({2});
  items[1].position = 6;
  items[1].trajectory.response_ids = {9};

  std::vector<Routed> back = sdz::pipeline::unpack(sdz::pipeline::pack(items));
  ASSERT_EQ(back.size(), 2u);
  const auto& a = back[0].trajectory;
  EXPECT_EQ(back[0].position, 5);
  EXPECT_EQ(a.question_id, 17);
  EXPECT_EQ(a.sample_index, 3);
  EXPECT_EQ(a.policy_version, 9);
  EXPECT_EQ(a.prompt_ids, (sdz::algo::Ids{1, 2, 3}));
  EXPECT_EQ(a.response_ids, (sdz::algo::Ids{4, 5}));
  EXPECT_EQ(a.logprobs, (std::vector<float>{-0.5f, -1.25f}));
  EXPECT_EQ(a.reward, 1.f);
  EXPECT_EQ(a.advantage, -0.75f);
  EXPECT_EQ(a.teacher_prompt_ids, (sdz::algo::Ids{7}));
  ASSERT_TRUE(back[0].has_signal);
  EXPECT_TRUE(torch::equal(back[0].signal.topk_ids, items[0].signal.topk_ids));
  EXPECT_TRUE(torch::equal(back[0].signal.topk_logits, items[0].signal.topk_logits));
  EXPECT_TRUE(torch::equal(back[0].signal.token_logprobs, items[0].signal.token_logprobs));
  EXPECT_FALSE(back[0].signal.full_logprobs.defined());
  EXPECT_FALSE(back[1].has_signal);
  EXPECT_TRUE(sdz::pipeline::unpack({}).empty());
}

TEST(Wire, TruncatedOrPaddedBuffersAreErrors) {
  std::vector<Routed> items(1);
  items[0].trajectory.response_ids = {1, 2, 3};
  auto bytes = sdz::pipeline::pack(items);
  auto cut = bytes;
  cut.resize(cut.size() - 3);
  EXPECT_THROW(sdz::pipeline::unpack(cut), sdz::Error);
  auto padded = bytes;
  padded.push_back(0);
  EXPECT_THROW(sdz::pipeline::unpack(padded), sdz::Error);
}
