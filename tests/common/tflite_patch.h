// Editing copies of real .tflite files in tests: just enough FlatBuffers reading to find
// fields to change in place (names, shapes, quantization). Offsets are little-endian uint32
// relative to where they are stored; a table starts with an int32 offset back to its vtable
// ([vtable bytes, table bytes, field offsets...]).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace q8::testing {

struct Flat {
  std::string& b;
  uint32_t U32(size_t at) const {
    uint32_t v;
    std::memcpy(&v, b.data() + at, 4);
    return v;
  }
  // Absolute position of field `index` of the table at `table`, or 0 when absent.
  size_t Field(size_t table, int index) const {
    int32_t back;
    std::memcpy(&back, b.data() + table, 4);
    const size_t vtable = table - back;
    uint16_t vlen, off;
    std::memcpy(&vlen, b.data() + vtable, 2);
    if (4 + 2 * index >= vlen) return 0;
    std::memcpy(&off, b.data() + vtable + 4 + 2 * index, 2);
    return off ? table + off : 0;
  }
  size_t Deref(size_t at) const { return at + U32(at); }  // follow an offset
  // Element i of the vector of tables whose offset field is at `at`.
  size_t TableAt(size_t at, uint32_t i) const {
    const size_t vec = Deref(at);
    return Deref(vec + 4 + 4 * i);
  }
  uint32_t Length(size_t at) const { return U32(Deref(at)); }
};

// Field indices in the public schema.
constexpr int kModelSubgraphs = 2, kSubgraphTensors = 0, kTensorShape = 0, kTensorName = 3,
              kTensorQuantization = 4, kQuantScale = 2,
              kQuantDimension = 6;  // the details union takes slots 4 and 5

// Empties the name of every tensor of subgraph 0 called `name` (length 0, then the string's
// terminator), as a converter leaves an unnamed tensor. Returns how many it changed.
inline int ClearTensorName(std::string& bytes, const std::string& name) {
  Flat f{bytes};
  const size_t sg = f.TableAt(f.Field(f.U32(0), kModelSubgraphs), 0);
  const size_t tensors = f.Field(sg, kSubgraphTensors);
  int cleared = 0;
  for (uint32_t i = 0; i < f.Length(tensors); ++i) {
    const size_t field = f.Field(f.TableAt(tensors, i), kTensorName);
    if (!field) continue;
    const size_t s = f.Deref(field);
    if (std::string(bytes.data() + s + 4, f.U32(s)) != name) continue;
    std::memset(&bytes[s], 0, 5);
    ++cleared;
  }
  return cleared;
}

}  // namespace q8::testing
