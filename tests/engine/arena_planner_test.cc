#include "engine/dnnl/arena_planner.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "engine/dnnl/reorder_step.h"
#include "engine/dnnl/run_context_impl.h"

namespace q8::engine::dnnl_backend {
namespace {

TEST(ArenaPlannerTest, ReusesFreedBlocksAndTracksTheHighWaterMark) {
  ArenaPlanner a;
  const size_t x = a.Allocate(100);   // 128 bytes
  const size_t y = a.Allocate(64);
  EXPECT_EQ(x, 0u);
  EXPECT_EQ(y, 128u);
  EXPECT_EQ(a.size(), 192u);
  a.Free(x);
  EXPECT_EQ(a.Allocate(60), 0u) << "first fit into the freed block";
  EXPECT_EQ(a.Allocate(64), 64u) << "the rest of the freed block";
  EXPECT_EQ(a.size(), 192u) << "nothing grew";
}

TEST(ArenaPlannerTest, CoalescesNeighboursAndGrowsATrailingFreeBlock) {
  ArenaPlanner a;
  const size_t x = a.Allocate(64), y = a.Allocate(64), z = a.Allocate(64);
  a.Free(x);
  a.Free(z);
  a.Free(y);  // merges with both neighbours into one 192-byte block
  EXPECT_EQ(a.Allocate(192), 0u);
  a.Free(0);
  EXPECT_EQ(a.Allocate(256), 0u) << "a free block at the top is extended, not skipped";
  EXPECT_EQ(a.size(), 256u);
}

TEST(ReorderStepTest, ChannelsLastToPlainMovesChannelsOutermost) {
  // Logical NCHW [1,2,2,2]; channels-last storage is N,H,W,C.
  const std::vector<float> nhwc = {0, 100, 1, 101, 2, 102, 3, 103};  // c0: 0..3, c1: 100..103
  std::vector<float> nchw(8, -1);
  ValueDesc from{DType::kFloat32, {1, 2, 2, 2}, Layout::kChannelsLast};
  ValueDesc to = from;
  to.layout = Layout::kPlain;
  auto step = MakeReorderStep(from, to);
  RunContext ctx;
  const void* in[] = {nhwc.data()};
  void* out[] = {nchw.data()};
  step->Execute(StepContext{ctx.impl().stream, nullptr, nullptr, in, out});
  ctx.impl().stream.wait();
  EXPECT_EQ(nchw, (std::vector<float>{0, 1, 2, 3, 100, 101, 102, 103}));
}

}  // namespace
}  // namespace q8::engine::dnnl_backend
