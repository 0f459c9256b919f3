#include "continuous/selection_kernels.hpp"

#include "continuous/cpu_dispatch.hpp"

#include <cstring>

// The vector helpers below are always inlined within this file, so how a 64-byte vector would
// be passed between separately compiled functions does not matter here.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace bcq::continuous::kernels {

namespace {

#define BCQ_INLINE inline __attribute__((always_inline))

BCQ_INLINE float relu(float v) { return v < 0.0f ? 0.0f : v; }  // keeps NaN and -0, as ATen

// Round to nearest even, as c10::BFloat16 / Tensor::to; NaN stays NaN.
BCQ_INLINE uint16_t to_bf16_bits(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  const uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  return static_cast<uint16_t>(v != v ? 0x7FC0u : rounded);
}

BCQ_INLINE float from_bf16_bits(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

// 16 floats: one AVX-512 register, two AVX2 or four SSE registers, per clone (cpu_dispatch.hpp).
typedef float F16 __attribute__((vector_size(64)));
typedef uint32_t U32x16 __attribute__((vector_size(64)));
typedef uint16_t U16x16 __attribute__((vector_size(32)));

BCQ_INLINE F16 load(const float* p) {
  F16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

BCQ_INLINE F16 relu(const F16& v) { return v < 0.0f ? F16{} : v; }  // lanes as relu(float)

BCQ_INLINE void store_relu(float* out, const F16& value) {
  F16 v = relu(value);
  std::memcpy(out, &v, sizeof v);
}

BCQ_INLINE void store_relu(uint16_t* out, const F16& value) {
  F16 v = relu(value);
  U32x16 u;
  std::memcpy(&u, &v, sizeof u);
  const U32x16 rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  const U32x16 bits = v != v ? U32x16{} + 0x7FC0u : rounded;
  const U16x16 narrow = __builtin_convertvector(bits, U16x16);
  std::memcpy(out, &narrow, sizeof narrow);
}

BCQ_INLINE void store_relu(float* out, float v) { *out = relu(v); }
BCQ_INLINE void store_relu(uint16_t* out, float v) { *out = to_bf16_bits(relu(v)); }

// out[c] = relu(per_state[c] + x[0] w_t[0, c] + x[1] w_t[1, c] + ...), summed in that order,
// for one row: four vectors (64 columns) at a time while they last, then one, then scalars.
template <typename Out>
BCQ_INLINE void sample_sum_row(const float* __restrict per_state, const float* __restrict x,
                               const float* __restrict w_t, int64_t inner, int64_t cols,
                               Out* __restrict out) {
  int64_t c = 0;
  for (; c + 64 <= cols; c += 64) {
    F16 a0 = load(per_state + c), a1 = load(per_state + c + 16);
    F16 a2 = load(per_state + c + 32), a3 = load(per_state + c + 48);
    for (int64_t k = 0; k < inner; ++k) {
      const float* w = w_t + k * cols + c;
      const F16 xk = F16{} + x[k];
      a0 = a0 + xk * load(w);
      a1 = a1 + xk * load(w + 16);
      a2 = a2 + xk * load(w + 32);
      a3 = a3 + xk * load(w + 48);
    }
    store_relu(out + c, a0);
    store_relu(out + c + 16, a1);
    store_relu(out + c + 32, a2);
    store_relu(out + c + 48, a3);
  }
  for (; c + 16 <= cols; c += 16) {
    F16 a = load(per_state + c);
    for (int64_t k = 0; k < inner; ++k) a = a + (F16{} + x[k]) * load(w_t + k * cols + c);
    store_relu(out + c, a);
  }
  for (; c < cols; ++c) {
    float a = per_state[c];
    for (int64_t k = 0; k < inner; ++k) a = a + x[k] * w_t[k * cols + c];
    store_relu(out + c, a);
  }
}

template <typename Out>
BCQ_INLINE void sample_sum_rows(const float* per_state, const float* x, const float* w_t,
                                int64_t rows, int64_t samples, int64_t inner, int64_t cols,
                                Out* out) {
  for (int64_t r = 0; r < rows; ++r) {
    sample_sum_row(per_state + (r / samples) * cols, x + r * inner, w_t, inner, cols,
                   out + r * cols);
  }
}

}  // namespace

BCQ_CPU_CLONES("avx512f", "avx2", "default") void sample_sum_relu(
    const float* per_state, const float* x, const float* w_t, int64_t rows, int64_t samples,
    int64_t inner, int64_t cols, float* out) {
  sample_sum_rows(per_state, x, w_t, rows, samples, inner, cols, out);
}

BCQ_CPU_CLONES("avx512f", "avx2", "default") void sample_sum_relu_bf16(
    const float* per_state, const float* x, const float* w_t, int64_t rows, int64_t samples,
    int64_t inner, int64_t cols, uint16_t* out) {
  sample_sum_rows(per_state, x, w_t, rows, samples, inner, cols, out);
}

BCQ_CPU_CLONES("avx512f", "avx2", "default") void bias_relu_bf16(
    const uint16_t* y, const float* bias, int64_t rows, int64_t cols, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const uint16_t* __restrict yr = y + r * cols;
    float* __restrict o = out + r * cols;
    for (int64_t c = 0; c < cols; ++c) o[c] = relu(bias[c] + from_bf16_bits(yr[c]));
  }
}

#undef BCQ_INLINE

}  // namespace bcq::continuous::kernels
