// q8.SequenceLstm (TFLite UNIDIRECTIONAL_SEQUENCE_LSTM, translated by the importer with its
// weights dequantized to float): the standard LSTM without peephole or projection,
//
//   i_t = σ(W_i·x_t + R_i·h_{t-1} + b_i)       (i_t = 1 - f_t with a coupled input gate)
//   f_t = σ(W_f·x_t + R_f·h_{t-1} + b_f)
//   g_t = tanh(W_c·x_t + R_c·h_{t-1} + b_c)
//   o_t = σ(W_o·x_t + R_o·h_{t-1} + b_o)
//   c_t = clip(f_t ⊙ c_{t-1} + i_t ⊙ g_t, ±cell_clip)
//   h_t = o_t ⊙ tanh(c_t),  y_t = h_t
//
// computed in float. TFLite's integer kernel stores h in int8 (the output state's scale and
// zero point) and c in int16 (the cell state's scale) between steps; so that the recurrence
// sees the same values, h_t and c_t are rounded to those grids after every step when the
// attributes give them: h ← s_h·(sat(round(h/s_h) + z_h) - z_h), c ← s_c·sat16(round(c/s_c)).
// Inputs: x [B,T,I] ([T,B,I] when time_major), then W_i, W_f, W_c, W_o [H,I], R_i..R_o
// [H,H], b_i..b_o [H] as float constants (W_i, R_i, b_i empty for a coupled input gate).
// States start at 0 for every run (TFLite's variable tensors, reset per inference here).
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/kernels/kernel_util.h"

namespace q8::engine::dnnl_backend {
namespace {

struct LstmParams {
  int64_t H = 0, I = 0;
  bool cifg = false, time_major = false;
  float cell_clip = 0.f;
  float h_scale = 0.f, c_scale = 0.f;  // 0: no grid
  int32_t h_zero_point = 0, h_min = -128, h_max = 127;
  std::vector<float> w[4], r[4], b[4];  // gates i, f, c, o
};

float Sigmoid(float v) { return 1.f / (1.f + std::exp(-v)); }

class SequenceLstmKernel final : public Kernel {
 public:
  explicit SequenceLstmKernel(std::shared_ptr<const LstmParams> p) : p_(std::move(p)) {}

  absl::StatusOr<PlannedStep> Plan(absl::Span<const ValueDesc> in) const override {
    const Shape& x = in[0].shape;
    if (in[0].dtype != DType::kFloat32 || x.size() != 3 || x[2] != p_->I) {
      return absl::InvalidArgumentError(absl::StrCat("input must be float32 [B,T,", p_->I,
                                                     "], got ", DTypeName(in[0].dtype), " ",
                                                     ShapeToString(x)));
    }
    const int64_t B = p_->time_major ? x[1] : x[0], T = p_->time_major ? x[0] : x[1];
    auto p = p_;
    auto run = [p, B, T](const StepContext& c) {
      const float* xs = static_cast<const float*>(c.inputs[0]);
      float* ys = static_cast<float*>(c.outputs[0]);
      const int64_t H = p->H, I = p->I;
      std::vector<float> h(H), cell(H), gate[4];
      for (auto& g : gate) g.resize(H);
      for (int64_t b = 0; b < B; ++b) {
        std::fill(h.begin(), h.end(), 0.f);
        std::fill(cell.begin(), cell.end(), 0.f);
        for (int64_t t = 0; t < T; ++t) {
          const int64_t row = p->time_major ? t * B + b : b * T + t;
          const float* xt = xs + row * I;
          for (int k = 0; k < 4; ++k) {
            if (k == 0 && p->cifg) continue;
            for (int64_t j = 0; j < H; ++j) {
              float acc = p->b[k][j];
              for (int64_t i = 0; i < I; ++i) acc += p->w[k][j * I + i] * xt[i];
              for (int64_t i = 0; i < H; ++i) acc += p->r[k][j * H + i] * h[i];
              gate[k][j] = k == 2 ? std::tanh(acc) : Sigmoid(acc);
            }
          }
          float* yt = ys + row * H;
          for (int64_t j = 0; j < H; ++j) {
            const float in_gate = p->cifg ? 1.f - gate[1][j] : gate[0][j];
            float cj = gate[1][j] * cell[j] + in_gate * gate[2][j];
            if (p->cell_clip > 0.f) cj = std::clamp(cj, -p->cell_clip, p->cell_clip);
            if (p->c_scale > 0.f) {
              cj = p->c_scale * std::clamp(std::round(cj / p->c_scale), -32768.f, 32767.f);
            }
            cell[j] = cj;
            float hj = gate[3][j] * std::tanh(cj);
            if (p->h_scale > 0.f) {
              const float q =
                  std::clamp(std::round(hj / p->h_scale) + p->h_zero_point,
                             static_cast<float>(p->h_min), static_cast<float>(p->h_max));
              hj = p->h_scale * (q - static_cast<float>(p->h_zero_point));
            }
            yt[j] = hj;
          }
          std::copy(yt, yt + H, h.begin());
        }
      }
    };
    PlannedStep planned;
    planned.step = std::make_unique<FunctionStep>(std::move(run));
    planned.outputs = {ValueDesc{DType::kFloat32, {x[0], x[1], p_->H}}};
    return planned;
  }

 private:
  const std::shared_ptr<const LstmParams> p_;
};

absl::StatusOr<BuiltKernel> BuildSequenceLstm(const ir::Node& node, const ir::Graph& graph) {
  auto p = std::make_shared<LstmParams>();
  p->cifg = node.Input(1).empty();
  for (int k = 0; k < 4; ++k) {
    if (k == 0 && p->cifg) continue;
    std::vector<float>* dst[3] = {&p->w[k], &p->r[k], &p->b[k]};
    for (int part = 0; part < 3; ++part) {
      auto t = RequireConstant(node, graph, static_cast<size_t>(1 + 4 * part + k));
      if (!t.ok()) return t.status();
      if ((*t)->dtype() != DType::kFloat32) {
        return absl::InvalidArgumentError("LSTM weights and biases must be float32 constants");
      }
      *dst[part] = FloatValues(**t);
      const Shape& s = (*t)->shape();
      if (part == 2) {
        if (s.size() != 1) return absl::InvalidArgumentError("an LSTM bias is not 1-D");
        p->H = s[0];
      } else if (s.size() != 2) {
        return absl::InvalidArgumentError("an LSTM weight is not 2-D");
      } else if (part == 0) {
        p->I = s[1];
      }
    }
  }
  for (int k = p->cifg ? 1 : 0; k < 4; ++k) {
    if (static_cast<int64_t>(p->w[k].size()) != p->H * p->I ||
        static_cast<int64_t>(p->r[k].size()) != p->H * p->H ||
        static_cast<int64_t>(p->b[k].size()) != p->H) {
      return absl::InvalidArgumentError(absl::StrCat(
          "LSTM gate weights do not agree on hidden size ", p->H, " and input size ", p->I));
    }
  }
  p->time_major = node.GetInt("time_major", 0) != 0;
  p->cell_clip = node.GetFloat("cell_clip", 0.f);
  p->h_scale = node.GetFloat("h_scale", 0.f);
  p->c_scale = node.GetFloat("c_scale", 0.f);
  p->h_zero_point = static_cast<int32_t>(node.GetInt("h_zero_point", 0));
  p->h_min = static_cast<int32_t>(node.GetInt("h_min", -128));
  p->h_max = static_cast<int32_t>(node.GetInt("h_max", 127));
  return BuiltKernel{std::make_unique<SequenceLstmKernel>(std::move(p)), {node.Input(0)}};
}

}  // namespace

void RegisterSequenceLstmKernel(std::map<std::string, KernelBuilder>& registry) {
  registry["q8.SequenceLstm"] = BuildSequenceLstm;
}

}  // namespace q8::engine::dnnl_backend
