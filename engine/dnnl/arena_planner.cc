#include "engine/dnnl/arena_planner.h"

#include <iterator>

namespace q8::engine::dnnl_backend {

size_t ArenaPlanner::Allocate(size_t bytes) {
  bytes = (bytes + 63) / 64 * 64;
  if (bytes == 0) bytes = 64;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < bytes) continue;
    const size_t offset = it->first, left = it->second - bytes;
    free_.erase(it);
    if (left > 0) free_[offset + bytes] = left;
    used_[offset] = bytes;
    return offset;
  }
  // Grow: extend a free block that ends at the top, else append.
  size_t offset = top_;
  if (!free_.empty()) {
    auto last = std::prev(free_.end());
    if (last->first + last->second == top_) {
      offset = last->first;
      free_.erase(last);
    }
  }
  top_ = offset + bytes;
  used_[offset] = bytes;
  return offset;
}

void ArenaPlanner::Free(size_t offset) {
  auto used = used_.find(offset);
  if (used == used_.end()) return;
  size_t start = offset, size = used->second;
  used_.erase(used);
  auto next = free_.lower_bound(start);
  if (next != free_.end() && start + size == next->first) {  // merge with the block after
    size += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {  // merge with the block before
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      size += prev->second;
      free_.erase(prev);
    }
  }
  free_[start] = size;
}

}  // namespace q8::engine::dnnl_backend
