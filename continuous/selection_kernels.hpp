// Fused passes of BCQ action selection (Eq. 11) over raw float32 / bfloat16 arrays, so that one
// call does what would otherwise be several LibTorch operations, each a pass over memory.
// Each gives exactly the values of the LibTorch composite named in its comment, which is what
// the exported TorchScript policy runs: every product and every sum is rounded on its own
// (selection_kernels.cpp is compiled with -ffp-contract=off, so no fused multiply-add), and
// bfloat16 results are rounded to nearest even, as Tensor::to does. All arrays row-major.
#pragma once

#include <cstdint>

namespace bcq::continuous::kernels {

/// out[r, c] = relu(per_state[r / samples, c] + x[r, 0] * w_t[0, c] + ... + x[r, inner-1] *
/// w_t[inner-1, c]), summed left to right, for r < rows, c < cols.
/// Composite: h = per_state broadcast over its samples; for k: h = h + x[:, k:k+1] * w_t[k];
/// h.relu().
void sample_sum_relu(const float* per_state, const float* x, const float* w_t, int64_t rows,
                     int64_t samples, int64_t inner, int64_t cols, float* out);

/// The same values rounded to bfloat16 (`out` holds the bit patterns).
/// Composite: ... h.relu().to(torch::kBFloat16).
void sample_sum_relu_bf16(const float* per_state, const float* x, const float* w_t, int64_t rows,
                          int64_t samples, int64_t inner, int64_t cols, uint16_t* out);

/// out[r, c] = relu(bias[c] + y[r, c]) in float32 for bfloat16 `y` (bit patterns).
/// Composite: (bias + y).relu().
void bias_relu_bf16(const uint16_t* y, const float* bias, int64_t rows, int64_t cols, float* out);

}  // namespace bcq::continuous::kernels
