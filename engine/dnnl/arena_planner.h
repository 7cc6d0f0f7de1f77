// Plans activation buffers for one execution plan: every intermediate value gets an
// offset in one arena, and values whose lifetimes do not overlap share memory
// (first-fit over freed blocks). Plain data; not thread-safe (used while planning).
#pragma once

#include <cstddef>
#include <map>

namespace q8::engine::dnnl_backend {

class ArenaPlanner {
 public:
  // Offset of a new block of `bytes` (rounded up to 64), reusing freed space first.
  size_t Allocate(size_t bytes);
  // Returns the block at `offset` (from Allocate) to the free list.
  void Free(size_t offset);
  // Bytes the arena needs: the high-water mark.
  size_t size() const { return top_; }

 private:
  std::map<size_t, size_t> free_;  // offset → size, coalesced
  std::map<size_t, size_t> used_;  // offset → size
  size_t top_ = 0;
};

}  // namespace q8::engine::dnnl_backend
