// The fused CPU kernels (cpu_kernels.hpp). Plain loops the compiler vectorizes: sums of squares and
// dot products run in 16 independent lanes (a float sum in one accumulator cannot be vectorized without
// reassociation), and exp is a Cephes-style polynomial with integer exponent bits instead of libm's
// scalar call. The hot functions are also compiled for AVX2 + FMA and AVX-512 and picked at load time
// (GCC function multiversioning), so the binary still runs on any x86-64. CMakeLists.txt compiles this
// file with -O3 -fopenmp -fno-trapping-math: without the last GCC keeps the clamps and selects as branches
// (a comparison "could trap") and vectorizes nothing that calls exp.
#include "sdzero/model/cpu_kernels.hpp"

#include <ATen/Parallel.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace sdz::model::cpu {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SDZ_MULTIVERSION __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define SDZ_MULTIVERSION
#endif

namespace {

constexpr int kLanes = 16;

// Rows per block: about 16K values, at least one row. Blocks, not threads, are the unit of the
// partial sums, so the thread count never changes a result.
int64_t rows_per_block(int64_t R) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(R, 1)); }

// Denormals flushed to zero (FTZ) and read as zero (DAZ) while a kernel runs, on the calling thread:
// the vectorized selects compute every branch for every lane, and a branch that is not taken can still
// make a denormal (g / (1 + e^88) for the clamped exp), which costs a microcode assist per vector:
// SwiGLU's forward was 10x slower for it. Nothing these kernels return is that small on purpose.
struct FlushDenormals {
#if defined(__x86_64__) || defined(__i386__)
  unsigned saved = _mm_getcsr();
  FlushDenormals() { _mm_setcsr(saved | 0x8040); }
  ~FlushDenormals() { _mm_setcsr(saved); }
#endif
};

// Work below torch's grain (32K values) per thread runs on the calling thread: waking the pool costs
// more than it saves there, the more so with OMP_WAIT_POLICY=passive (dist/world.cpp).
constexpr int64_t kGrain = 32768;
int64_t grain_of(int64_t values_per_item) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(values_per_item, 1)); }

inline float exp_poly(float x) {
  // exp(x) = 2^n exp(r), n = round(x / ln 2), r = x - n ln 2 in two parts (Cody-Waite), exp(r) by the
  // Cephes minimax polynomial. Clamped so 2^n stays a normal float; below -87 the result is ~1e-38.
  // n is rounded by adding 1.5 * 2^23, whose float has no fraction bits left: its low bits are n.
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float shifted = x * 1.44269504088896341f + 12582912.0f;
  int32_t n;
  std::memcpy(&n, &shifted, sizeof n);
  n -= 0x4B400000;
  const float fn = shifted - 12582912.0f;
  const float r = (x - fn * 0.693359375f) + fn * 2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  y = y * r * r + r + 1.0f;
  const int32_t bits = (n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

#define SDZ_INLINE inline __attribute__((always_inline))

SDZ_INLINE float sum_squares(const float* __restrict x, int64_t n) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += x[i + j] * x[i + j];
  float s = 0;
  for (int j = 0; j < kLanes; ++j) s += acc[j];
  for (; i < n; ++i) s += x[i] * x[i];
  return s;
}

// One row: y = rope(x * rs * w).
SDZ_INLINE void norm_rope_row(const float* __restrict x, const float* __restrict w, const float* __restrict c,
                              const float* __restrict s, float* __restrict y, float rs, int64_t R, int64_t D) {
  if (D == 0) {
    for (int64_t i = 0; i < R; ++i) y[i] = x[i] * rs * w[i];
    return;
  }
  const int64_t h = D / 2;
  for (int64_t b = 0; b < R; b += D) {
    const float *x1 = x + b, *x2 = x + b + h, *w1 = w + b, *w2 = w + b + h;
    float *y1 = y + b, *y2 = y + b + h;
    for (int64_t i = 0; i < h; ++i) {
      const float a = x1[i] * rs * w1[i], e = x2[i] * rs * w2[i];
      y1[i] = a * c[i] - e * s[i];
      y2[i] = e * c[i] + a * s[i];
    }
  }
}

// One row of backward. g: scratch [R]. dy -> dn (un-rotated), then the norm's backward:
// xhat = x rs, dxhat = dn w, dx = rs (dxhat - xhat mean(dxhat xhat)), dw += dn xhat.
SDZ_INLINE void norm_rope_row_backward(const float* __restrict dy, const float* __restrict x,
                                       const float* __restrict w, const float* __restrict c,
                                       const float* __restrict s, float* __restrict dx, float* __restrict dw,
                                       float* __restrict g, float rs, int64_t R, int64_t D) {
  if (D == 0) {
    std::memcpy(g, dy, size_t(R) * sizeof(float));
  } else {
    const int64_t h = D / 2;
    for (int64_t b = 0; b < R; b += D)
      for (int64_t i = 0; i < h; ++i) {
        const float d1 = dy[b + i], d2 = dy[b + h + i];
        g[b + i] = d1 * c[i] + d2 * s[i];
        g[b + h + i] = d2 * c[i] - d1 * s[i];
      }
  }
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= R; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += g[i + j] * w[i + j] * x[i + j];
  float dot = 0;
  for (int j = 0; j < kLanes; ++j) dot += acc[j];
  for (; i < R; ++i) dot += g[i] * w[i] * x[i];
  const float m = dot * rs * rs / float(R);  // mean(dxhat * xhat) / rs, folded with the x below
  for (int64_t k = 0; k < R; ++k) {
    dw[k] += g[k] * x[k] * rs;
    dx[k] = rs * (g[k] * w[k] - x[k] * m);
  }
}

// Rows [r0, r1): one multiversioned call per range, the row helpers inlined into each version.
SDZ_MULTIVERSION void norm_rope_rows(const float* x, const float* w, const float* cos, const float* sin, float* y,
                                     float* rstd, int64_t r0, int64_t r1, int64_t R, int64_t D,
                                     int64_t rows_per_token, float eps) {
  const int64_t h = D / 2;
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * R;
    const float rs = 1.0f / std::sqrt(sum_squares(xr, R) / float(R) + eps);
    if (rstd) rstd[r] = rs;
    const int64_t p = D ? r / rows_per_token : 0;
    norm_rope_row(xr, w, D ? cos + p * h : nullptr, D ? sin + p * h : nullptr, y + r * R, rs, R, D);
  }
}

SDZ_MULTIVERSION void norm_rope_rows_backward(const float* dy, const float* x, const float* w, const float* rstd,
                                              const float* cos, const float* sin, float* dx, float* dw, float* g,
                                              int64_t r0, int64_t r1, int64_t R, int64_t D, int64_t rows_per_token) {
  const int64_t h = D / 2;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t p = D ? r / rows_per_token : 0;
    norm_rope_row_backward(dy + r * R, x + r * R, w, D ? cos + p * h : nullptr, D ? sin + p * h : nullptr, dx + r * R,
                           dw, g, rstd[r], R, D);
  }
}

SDZ_MULTIVERSION void swiglu_fwd_range(const float* g, const float* u, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float sg = 1.0f / (1.0f + exp_poly(-g[i]));
    out[i] = g[i] * sg * u[i];
  }
}

SDZ_MULTIVERSION void swiglu_bwd_range(const float* d, const float* g, const float* u, float* dg, float* du,
                                       int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float sg = 1.0f / (1.0f + exp_poly(-g[i]));
    dg[i] = d[i] * u[i] * (sg * (1.0f + g[i] * (1.0f - sg)));
    du[i] = d[i] * g[i] * sg;
  }
}

SDZ_INLINE float row_max(const float* __restrict z, int64_t V) {
  float acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = z[0];
  int64_t i = 0;
  for (; i + kLanes <= V; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] = acc[j] > z[i + j] ? acc[j] : z[i + j];
  float m = z[0];
  for (int j = 0; j < kLanes; ++j) m = m > acc[j] ? m : acc[j];
  for (; i < V; ++i) m = m > z[i] ? m : z[i];
  return m;
}

SDZ_INLINE float row_sum_exp(const float* __restrict z, float mx, int64_t V) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= V; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += exp_poly(z[i + j] - mx);
  float s = 0;
  for (int j = 0; j < kLanes; ++j) s += acc[j];
  for (; i < V; ++i) s += exp_poly(z[i] - mx);
  return s;
}

// Rows [r0, r1) of softmax_xent_rows. p may be z: each row is read whole before it is written.
SDZ_MULTIVERSION void softmax_xent_range(const float* z, const int64_t* target, const float* scale, float* p,
                                         float* nll, int64_t r0, int64_t r1, int64_t V) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* zr = z + r * V;
    const float mx = row_max(zr, V);
    const float lse = mx + std::log(row_sum_exp(zr, mx, V));
    const int64_t t = target[r];
    nll[r] = lse - zr[t];
    if (!p) continue;
    const float sc = scale ? scale[r] : 1.0f;
    float* pr = p + r * V;
    for (int64_t i = 0; i < V; ++i) pr[i] = sc * exp_poly(zr[i] - lse);
    pr[t] -= sc;
  }
}

}  // namespace

float exp_approx(float x) { return exp_poly(x); }

void norm_rope_forward(const float* x, const float* w, const float* cos, const float* sin, float* y, float* rstd,
                       int64_t rows, int64_t R, int64_t D, int64_t rows_per_token, float eps) {
  const int64_t per = rows_per_block(R);
  at::parallel_for(0, (rows + per - 1) / per, grain_of(per * R), [&](int64_t b0, int64_t b1) {
    FlushDenormals ftz;
    norm_rope_rows(x, w, cos, sin, y, rstd, b0 * per, std::min(rows, b1 * per), R, D, rows_per_token, eps);
  });
}

void norm_rope_backward(const float* dy, const float* x, const float* w, const float* rstd, const float* cos,
                        const float* sin, float* dx, float* dw, int64_t rows, int64_t R, int64_t D,
                        int64_t rows_per_token) {
  const int64_t per = rows_per_block(R), blocks = (rows + per - 1) / per;
  std::vector<float> part(size_t(blocks * R), 0.0f);
  at::parallel_for(0, blocks, grain_of(per * R), [&](int64_t b0, int64_t b1) {
    FlushDenormals ftz;
    std::vector<float> g(static_cast<size_t>(R));
    for (int64_t b = b0; b < b1; ++b)
      norm_rope_rows_backward(dy, x, w, rstd, cos, sin, dx, part.data() + b * R, g.data(), b * per,
                              std::min(rows, (b + 1) * per), R, D, rows_per_token);
  });
  std::fill(dw, dw + R, 0.0f);
  for (int64_t b = 0; b < blocks; ++b)
    for (int64_t k = 0; k < R; ++k) dw[k] += part[size_t(b * R + k)];
}

void swiglu_forward(const float* g, const float* u, float* out, int64_t n) {
  at::parallel_for(0, n, kGrain, [&](int64_t a, int64_t b) {
    FlushDenormals ftz;
    swiglu_fwd_range(g + a, u + a, out + a, b - a);
  });
}

void swiglu_backward(const float* dout, const float* g, const float* u, float* dg, float* du, int64_t n) {
  at::parallel_for(0, n, kGrain,
                   [&](int64_t a, int64_t b) {
                     FlushDenormals ftz;
                     swiglu_bwd_range(dout + a, g + a, u + a, dg + a, du + a, b - a);
                   });
}

void softmax_xent_rows(const float* z, const int64_t* target, const float* scale, float* p, float* nll,
                       int64_t rows, int64_t V) {
  at::parallel_for(0, rows, grain_of(V), [&](int64_t r0, int64_t r1) {
    FlushDenormals ftz;
    softmax_xent_range(z, target, scale, p, nll, r0, r1, V);
  });
}

}  // namespace sdz::model::cpu
