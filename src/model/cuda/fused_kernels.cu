// CUDA kernels behind fused_ops.cpp (GPU builds only). Plain CUDA on raw pointers: no torch headers,
// so nvcc compiles this file alone. Every kernel reads bf16, computes in fp32 and rounds once.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "sdzero/model/fused_kernels.hpp"

namespace sdz::model::cuda {

namespace {

using bf16 = __nv_bfloat16;

// Pairs (a, a + D/2) of one RoPE rotation a thread may hold: R/2 <= kMaxPairs * threads. The kernels
// are instantiated for 1, 2, 4 and 8 pairs a thread (registers: a Qwen3 head of 128 needs one).
constexpr int kMaxPairs = 8;
constexpr int kMaxThreads = 512;

__device__ __forceinline__ float ld(const bf16* p, int64_t i) { return __bfloat162float(p[i]); }

// Sum over the block; blockDim.x is a multiple of 32. Every thread gets the total.
__device__ float block_sum(float v) {
  __shared__ float part[kMaxThreads / 32];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  __syncthreads();  // part[] may still be read by the previous call
  if (lane == 0) part[warp] = v;
  __syncthreads();
  float s = 0;
  for (int i = 0; i < warps; ++i) s += part[i];
  return s;
}

// Column a of pair pi: pairs run over heads, D/2 per head; the partner is a + D/2.
__device__ __forceinline__ int pair_col(int pi, int half, int D) { return (pi / half) * D + pi % half; }

// y = rope(x * rstd * w), one block per row of R (the norm's span), rows_per_token rows per position.
template <int kPairs>
__global__ void norm_rope_fwd(const bf16* __restrict__ x, const bf16* __restrict__ w, const float* __restrict__ cs,
                              const float* __restrict__ sn, bf16* __restrict__ y, float* __restrict__ rstd,
                              int R, int D, int rows_per_token, float eps) {
  const int64_t row = blockIdx.x;
  const int half = D / 2, P = R / 2;
  const bf16* xr = x + row * R;
  float xa[kPairs], xb[kPairs], ss = 0;
#pragma unroll
  for (int k = 0; k < kPairs; ++k) {
    const int pi = threadIdx.x + k * blockDim.x;
    xa[k] = xb[k] = 0;
    if (pi < P) {
      const int a = pair_col(pi, half, D);
      xa[k] = ld(xr, a), xb[k] = ld(xr, a + half);
      ss += xa[k] * xa[k] + xb[k] * xb[k];
    }
  }
  const float r = rsqrtf(block_sum(ss) / float(R) + eps);
  if (rstd != nullptr && threadIdx.x == 0) rstd[row] = r;
  const int64_t tab = (row / rows_per_token) * half;
  bf16* yr = y + row * R;
#pragma unroll
  for (int k = 0; k < kPairs; ++k) {
    const int pi = threadIdx.x + k * blockDim.x;
    if (pi >= P) continue;
    const int a = pair_col(pi, half, D), j = pi % half;
    const float za = xa[k] * r * ld(w, a), zb = xb[k] * r * ld(w, a + half);
    const float c = cs[tab + j], s = sn[tab + j];
    yr[a] = __float2bfloat16(za * c - zb * s);
    yr[a + half] = __float2bfloat16(zb * c + za * s);
  }
}

// Backward of norm_rope_fwd. Blocks stride over rows; each thread keeps its columns' dL/dw partial
// sums in registers and writes them once to dw_part[block, R] (summed by the caller: deterministic).
template <int kPairs>
__global__ void norm_rope_bwd(const bf16* __restrict__ dy, const bf16* __restrict__ x, const bf16* __restrict__ w,
                              const float* __restrict__ rstd, const float* __restrict__ cs,
                              const float* __restrict__ sn, bf16* __restrict__ dx, float* __restrict__ dw_part,
                              int64_t rows, int R, int D, int rows_per_token) {
  const int half = D / 2, P = R / 2;
  float wa[kPairs], wb[kPairs], dwa[kPairs], dwb[kPairs];
#pragma unroll
  for (int k = 0; k < kPairs; ++k) {
    const int pi = threadIdx.x + k * blockDim.x;
    dwa[k] = dwb[k] = wa[k] = wb[k] = 0;
    if (pi < P) {
      const int a = pair_col(pi, half, D);
      wa[k] = ld(w, a), wb[k] = ld(w, a + half);
    }
  }
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float r = rstd[row];
    const int64_t tab = (row / rows_per_token) * half;
    const bf16 *dyr = dy + row * R, *xr = x + row * R;
    float ga[kPairs], gb[kPairs], ha[kPairs], hb[kPairs], dot = 0;
#pragma unroll
    for (int k = 0; k < kPairs; ++k) {
      const int pi = threadIdx.x + k * blockDim.x;
      ga[k] = gb[k] = ha[k] = hb[k] = 0;
      if (pi >= P) continue;
      const int a = pair_col(pi, half, D), j = pi % half;
      const float c = cs[tab + j], s = sn[tab + j];
      const float ya = ld(dyr, a), yb = ld(dyr, a + half);
      const float za = c * ya + s * yb, zb = c * yb - s * ya;  // the rotation's transpose
      ha[k] = ld(xr, a) * r, hb[k] = ld(xr, a + half) * r;   // x-hat
      dwa[k] += za * ha[k], dwb[k] += zb * hb[k];
      ga[k] = za * wa[k], gb[k] = zb * wb[k];                 // dL/dx-hat
      dot += ga[k] * ha[k] + gb[k] * hb[k];
    }
    const float m = block_sum(dot) / float(R);
    bf16* dxr = dx + row * R;
#pragma unroll
    for (int k = 0; k < kPairs; ++k) {
      const int pi = threadIdx.x + k * blockDim.x;
      if (pi >= P) continue;
      const int a = pair_col(pi, half, D);
      dxr[a] = __float2bfloat16(r * (ga[k] - ha[k] * m));
      dxr[a + half] = __float2bfloat16(r * (gb[k] - hb[k] * m));
    }
  }
#pragma unroll
  for (int k = 0; k < kPairs; ++k) {
    const int pi = threadIdx.x + k * blockDim.x;
    if (pi >= P) continue;
    const int a = pair_col(pi, half, D);
    dw_part[int64_t(blockIdx.x) * R + a] = dwa[k];
    dw_part[int64_t(blockIdx.x) * R + a + half] = dwb[k];
  }
}

__device__ __forceinline__ float sigmoid(float g) { return 1.f / (1.f + __expf(-g)); }

// out = silu(g) * u over n/2 bf16 pairs.
__global__ void swiglu_fwd(const __nv_bfloat162* __restrict__ g, const __nv_bfloat162* __restrict__ u,
                           __nv_bfloat162* __restrict__ out, int64_t pairs) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < pairs; i += int64_t(gridDim.x) * blockDim.x) {
    const float2 gv = __bfloat1622float2(g[i]), uv = __bfloat1622float2(u[i]);
    out[i] = __floats2bfloat162_rn(gv.x * sigmoid(gv.x) * uv.x, gv.y * sigmoid(gv.y) * uv.y);
  }
}

// dL/du = dout * silu(g); dL/dg = dout * u * s (1 + g (1 - s)), s = sigmoid(g).
__global__ void swiglu_bwd(const __nv_bfloat162* __restrict__ dout, const __nv_bfloat162* __restrict__ g,
                           const __nv_bfloat162* __restrict__ u, __nv_bfloat162* __restrict__ dg,
                           __nv_bfloat162* __restrict__ du, int64_t pairs) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < pairs; i += int64_t(gridDim.x) * blockDim.x) {
    const float2 d = __bfloat1622float2(dout[i]), gv = __bfloat1622float2(g[i]), uv = __bfloat1622float2(u[i]);
    const float sx = sigmoid(gv.x), sy = sigmoid(gv.y);
    du[i] = __floats2bfloat162_rn(d.x * gv.x * sx, d.y * gv.y * sy);
    dg[i] = __floats2bfloat162_rn(d.x * uv.x * sx * (1.f + gv.x * (1.f - sx)), d.y * uv.y * sy * (1.f + gv.y * (1.f - sy)));
  }
}

// One row of logits z [V] (fp32) per block: nll[row] = logsumexp(z) - z[target]; with p, also
// p[row] = softmax(z) - onehot(target) in bf16 (the logits' gradient for a weight of 1). One read for
// the online max and sum, one more read and a bf16 write for p. kVec4: V % 4 == 0 and 16-byte aligned
// rows, read as float4 (the kernel is bound by memory bandwidth).
template <bool kVec4>
__global__ void softmax_xent(const float* __restrict__ z, const int64_t* __restrict__ target, bf16* __restrict__ p,
                             float* __restrict__ nll, int64_t V) {
  __shared__ float red_m[32], red_s[32];
  const int64_t row = blockIdx.x;
  const float* zr = z + row * V;
  float m = -INFINITY, s = 0;
  if (kVec4) {
    const float4* z4 = reinterpret_cast<const float4*>(zr);
    for (int64_t i = threadIdx.x; i < V / 4; i += blockDim.x) {
      const float4 v = z4[i];
      const float mm = fmaxf(m, fmaxf(fmaxf(v.x, v.y), fmaxf(v.z, v.w)));
      s = s * expf(m - mm) + expf(v.x - mm) + expf(v.y - mm) + expf(v.z - mm) + expf(v.w - mm);
      m = mm;
    }
  } else {
    for (int64_t i = threadIdx.x; i < V; i += blockDim.x) {
      const float v = zr[i];
      const float mm = fmaxf(m, v);
      s = s * expf(m - mm) + expf(v - mm);
      m = mm;
    }
  }
  // Merge (m, s) pairs: first within each warp, then across warps. A thread that saw no value holds
  // (-inf, 0).
  for (int o = 16; o > 0; o >>= 1) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, o), s2 = __shfl_xor_sync(0xffffffffu, s, o);
    const float mm = fmaxf(m, m2);
    s = (mm == -INFINITY) ? 0.f : s * expf(m - mm) + s2 * expf(m2 - mm);
    m = mm;
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  if (lane == 0) red_m[warp] = m, red_s[warp] = s;
  __syncthreads();
  float M = -INFINITY, S = 0;
  for (int i = 0; i < warps; ++i) M = fmaxf(M, red_m[i]);
  for (int i = 0; i < warps; ++i) S += red_m[i] == -INFINITY ? 0.f : red_s[i] * expf(red_m[i] - M);
  const float lse = M + logf(S);
  const int64_t t = target[row];
  if (threadIdx.x == 0) nll[row] = lse - zr[t];
  if (p == nullptr) return;
  bf16* pr = p + row * V;
  if (kVec4) {
    const float4* z4 = reinterpret_cast<const float4*>(zr);
    __nv_bfloat162* p2 = reinterpret_cast<__nv_bfloat162*>(pr);
    for (int64_t i = threadIdx.x; i < V / 4; i += blockDim.x) {
      const float4 v = z4[i];
      const int64_t e = 4 * i;
      p2[2 * i] = __floats2bfloat162_rn(__expf(v.x - lse) - (e == t ? 1.f : 0.f), __expf(v.y - lse) - (e + 1 == t ? 1.f : 0.f));
      p2[2 * i + 1] =
          __floats2bfloat162_rn(__expf(v.z - lse) - (e + 2 == t ? 1.f : 0.f), __expf(v.w - lse) - (e + 3 == t ? 1.f : 0.f));
    }
  } else {
    for (int64_t i = threadIdx.x; i < V; i += blockDim.x) pr[i] = __float2bfloat16(__expf(zr[i] - lse) - (i == t ? 1.f : 0.f));
  }
}

// A head of D values per row (R == D: Qwen3's q/k norms), one warp per row: each lane holds kPer
// bf16 pairs of each half (columns 2c, 2c+1 and D/2 + 2c, D/2 + 2c + 1, c = lane + 32 k); the sums are
// warp shuffles. The same arithmetic as norm_rope_fwd/bwd with 4-byte loads and no block barriers.
__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <int kPer>
__global__ void head_norm_rope_fwd(const bf16* __restrict__ x, const bf16* __restrict__ w,
                                   const float* __restrict__ cs, const float* __restrict__ sn, bf16* __restrict__ y,
                                   float* __restrict__ rstd, int64_t rows, int D, int rows_per_token, float eps) {
  const int lane = threadIdx.x % 32;
  const int64_t row = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32;
  if (row >= rows) return;  // the whole warp: rows are warp-uniform
  const int half = D / 2, q = half / 2;
  const __nv_bfloat162* xr = reinterpret_cast<const __nv_bfloat162*>(x + row * D);
  float2 a[kPer], b[kPer];
  float ss = 0;
#pragma unroll
  for (int k = 0; k < kPer; ++k) {
    const int c = lane + 32 * k;
    a[k] = b[k] = make_float2(0.f, 0.f);
    if (c < q) {
      a[k] = __bfloat1622float2(xr[c]), b[k] = __bfloat1622float2(xr[q + c]);
      ss += a[k].x * a[k].x + a[k].y * a[k].y + b[k].x * b[k].x + b[k].y * b[k].y;
    }
  }
  const float r = rsqrtf(warp_sum(ss) / float(D) + eps);
  if (rstd != nullptr && lane == 0) rstd[row] = r;
  const int64_t tab = (row / rows_per_token) * half;
  const __nv_bfloat162* w2 = reinterpret_cast<const __nv_bfloat162*>(w);
  const float2 *c2 = reinterpret_cast<const float2*>(cs + tab), *s2 = reinterpret_cast<const float2*>(sn + tab);
  __nv_bfloat162* yr = reinterpret_cast<__nv_bfloat162*>(y + row * D);
#pragma unroll
  for (int k = 0; k < kPer; ++k) {
    const int c = lane + 32 * k;
    if (c >= q) continue;
    const float2 wa = __bfloat1622float2(w2[c]), wb = __bfloat1622float2(w2[q + c]), co = c2[c], si = s2[c];
    const float zax = a[k].x * r * wa.x, zay = a[k].y * r * wa.y, zbx = b[k].x * r * wb.x, zby = b[k].y * r * wb.y;
    yr[c] = __floats2bfloat162_rn(zax * co.x - zbx * si.x, zay * co.y - zby * si.y);
    yr[q + c] = __floats2bfloat162_rn(zbx * co.x + zax * si.x, zby * co.y + zay * si.y);
  }
}

// Warps stride over rows; each lane keeps its columns' dL/dw partial sums and writes them once to
// dw_part[warp, D] (the caller sums them: deterministic).
template <int kPer>
__global__ void head_norm_rope_bwd(const bf16* __restrict__ dy, const bf16* __restrict__ x,
                                   const bf16* __restrict__ w, const float* __restrict__ rstd,
                                   const float* __restrict__ cs, const float* __restrict__ sn, bf16* __restrict__ dx,
                                   float* __restrict__ dw_part, int64_t rows, int D, int rows_per_token) {
  const int lane = threadIdx.x % 32, half = D / 2, q = half / 2;
  const int64_t warp = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  const __nv_bfloat162* w2 = reinterpret_cast<const __nv_bfloat162*>(w);
  float2 wa[kPer], wb[kPer], dwa[kPer], dwb[kPer];
#pragma unroll
  for (int k = 0; k < kPer; ++k) {
    const int c = lane + 32 * k;
    wa[k] = wb[k] = dwa[k] = dwb[k] = make_float2(0.f, 0.f);
    if (c < q) wa[k] = __bfloat1622float2(w2[c]), wb[k] = __bfloat1622float2(w2[q + c]);
  }
  for (int64_t row = warp; row < rows; row += warps) {
    const float r = rstd[row];
    const int64_t tab = (row / rows_per_token) * half;
    const __nv_bfloat162 *dyr = reinterpret_cast<const __nv_bfloat162*>(dy + row * D),
                         *xr = reinterpret_cast<const __nv_bfloat162*>(x + row * D);
    const float2 *c2 = reinterpret_cast<const float2*>(cs + tab), *s2 = reinterpret_cast<const float2*>(sn + tab);
    float2 ga[kPer], gb[kPer], ha[kPer], hb[kPer];
    float dot = 0;
#pragma unroll
    for (int k = 0; k < kPer; ++k) {
      const int c = lane + 32 * k;
      ga[k] = gb[k] = ha[k] = hb[k] = make_float2(0.f, 0.f);
      if (c >= q) continue;
      const float2 co = c2[c], si = s2[c], ya = __bfloat1622float2(dyr[c]), yb = __bfloat1622float2(dyr[q + c]);
      const float2 xa = __bfloat1622float2(xr[c]), xb = __bfloat1622float2(xr[q + c]);
      const float2 za = make_float2(co.x * ya.x + si.x * yb.x, co.y * ya.y + si.y * yb.y);  // the rotation's transpose
      const float2 zb = make_float2(co.x * yb.x - si.x * ya.x, co.y * yb.y - si.y * ya.y);
      ha[k] = make_float2(xa.x * r, xa.y * r), hb[k] = make_float2(xb.x * r, xb.y * r);  // x-hat
      dwa[k].x += za.x * ha[k].x, dwa[k].y += za.y * ha[k].y, dwb[k].x += zb.x * hb[k].x, dwb[k].y += zb.y * hb[k].y;
      ga[k] = make_float2(za.x * wa[k].x, za.y * wa[k].y), gb[k] = make_float2(zb.x * wb[k].x, zb.y * wb[k].y);
      dot += ga[k].x * ha[k].x + ga[k].y * ha[k].y + gb[k].x * hb[k].x + gb[k].y * hb[k].y;
    }
    const float m = warp_sum(dot) / float(D);
    __nv_bfloat162* dxr = reinterpret_cast<__nv_bfloat162*>(dx + row * D);
#pragma unroll
    for (int k = 0; k < kPer; ++k) {
      const int c = lane + 32 * k;
      if (c >= q) continue;
      dxr[c] = __floats2bfloat162_rn(r * (ga[k].x - ha[k].x * m), r * (ga[k].y - ha[k].y * m));
      dxr[q + c] = __floats2bfloat162_rn(r * (gb[k].x - hb[k].x * m), r * (gb[k].y - hb[k].y * m));
    }
  }
  // Every warp writes its row of partial sums (zeros where it had no rows).
  float2* part = reinterpret_cast<float2*>(dw_part + warp * D);
#pragma unroll
  for (int k = 0; k < kPer; ++k) {
    const int c = lane + 32 * k;
    if (c < q) part[c] = dwa[k], part[q + c] = dwb[k];
  }
}

// The warp-per-row kernels take heads of D = R with D % 4 == 0, up to 256 (two pairs of bf16 pairs a
// lane); the block kernels everything else.
bool head_kernels(int64_t R, int64_t D) { return R == D && D % 4 == 0 && D / 4 <= 64; }
constexpr int kHeadWarps = 8;     // rows (warps) per block
constexpr int64_t kHeadMaxWarps = 4096;  // backward: warps striding over the rows (dw partial rows)

int norm_rope_threads(int R) {
  const int pairs = R / 2;
  int t = ((pairs + 31) / 32) * 32;
  return t < kMaxThreads ? t : kMaxThreads;
}

int pairs_per_thread(int R, int threads) { return (R / 2 + threads - 1) / threads; }

int elementwise_blocks(int64_t pairs) {
  const int64_t b = (pairs + 255) / 256;
  return int(b < 65535 ? b : 65535);
}

int check(const char* what) {
  const cudaError_t e = cudaGetLastError();
  (void)what;
  return e == cudaSuccess ? 0 : int(e);
}

}  // namespace

bool norm_rope_supported(int64_t R, int64_t D) {
  return D >= 2 && D % 2 == 0 && R % D == 0 && R / 2 <= int64_t(kMaxPairs) * kMaxThreads;
}

int64_t norm_rope_partials(int64_t rows, int64_t R, int64_t D) {
  if (head_kernels(R, D)) {
    const int64_t warps = ((rows + kHeadWarps - 1) / kHeadWarps) * kHeadWarps;
    return warps < kHeadMaxWarps ? warps : kHeadMaxWarps;
  }
  return rows < 2048 ? rows : 2048;
}

int norm_rope_forward(const void* x, const void* w, const float* cos, const float* sin, void* y, float* rstd,
                      int64_t rows, int64_t R, int64_t D, int64_t rows_per_token, float eps, void* stream) {
  if (rows == 0) return 0;
  if (head_kernels(R, D)) {
    const unsigned blocks = unsigned((rows + kHeadWarps - 1) / kHeadWarps);
    auto go = [&](auto kernel) {
      kernel<<<blocks, 32 * kHeadWarps, 0, static_cast<cudaStream_t>(stream)>>>(
          static_cast<const bf16*>(x), static_cast<const bf16*>(w), cos, sin, static_cast<bf16*>(y), rstd, rows,
          int(D), int(rows_per_token), eps);
    };
    if (D / 4 <= 32) go(head_norm_rope_fwd<1>);
    else go(head_norm_rope_fwd<2>);
    return check("head_norm_rope_fwd");
  }
  const int threads = norm_rope_threads(int(R)), per = pairs_per_thread(int(R), threads);
  auto go = [&](auto kernel) {
    kernel<<<unsigned(rows), threads, 0, static_cast<cudaStream_t>(stream)>>>(
        static_cast<const bf16*>(x), static_cast<const bf16*>(w), cos, sin, static_cast<bf16*>(y), rstd, int(R),
        int(D), int(rows_per_token), eps);
  };
  if (per == 1) go(norm_rope_fwd<1>);
  else if (per == 2) go(norm_rope_fwd<2>);
  else if (per <= 4) go(norm_rope_fwd<4>);
  else go(norm_rope_fwd<8>);
  return check("norm_rope_fwd");
}

int norm_rope_backward(const void* dy, const void* x, const void* w, const float* rstd, const float* cos,
                       const float* sin, void* dx, float* dw_part, int64_t rows, int64_t R, int64_t D,
                       int64_t rows_per_token, void* stream) {
  if (rows == 0) return 0;
  if (head_kernels(R, D)) {
    const unsigned blocks = unsigned(norm_rope_partials(rows, R, D) / kHeadWarps);
    auto go = [&](auto kernel) {
      kernel<<<blocks, 32 * kHeadWarps, 0, static_cast<cudaStream_t>(stream)>>>(
          static_cast<const bf16*>(dy), static_cast<const bf16*>(x), static_cast<const bf16*>(w), rstd, cos, sin,
          static_cast<bf16*>(dx), dw_part, rows, int(D), int(rows_per_token));
    };
    if (D / 4 <= 32) go(head_norm_rope_bwd<1>);
    else go(head_norm_rope_bwd<2>);
    return check("head_norm_rope_bwd");
  }
  const int threads = norm_rope_threads(int(R)), per = pairs_per_thread(int(R), threads);
  auto go = [&](auto kernel) {
    kernel<<<unsigned(norm_rope_partials(rows, R, D)), threads, 0, static_cast<cudaStream_t>(stream)>>>(
        static_cast<const bf16*>(dy), static_cast<const bf16*>(x), static_cast<const bf16*>(w), rstd, cos, sin,
        static_cast<bf16*>(dx), dw_part, rows, int(R), int(D), int(rows_per_token));
  };
  if (per == 1) go(norm_rope_bwd<1>);
  else if (per == 2) go(norm_rope_bwd<2>);
  else if (per <= 4) go(norm_rope_bwd<4>);
  else go(norm_rope_bwd<8>);
  return check("norm_rope_bwd");
}

int softmax_xent_rows(const float* z, const int64_t* target, void* p, float* nll, int64_t rows, int64_t V,
                      void* stream) {
  if (rows == 0) return 0;
  const bool vec4 = V % 4 == 0 && reinterpret_cast<uintptr_t>(z) % 16 == 0 &&
                    (p == nullptr || reinterpret_cast<uintptr_t>(p) % 8 == 0);
  if (vec4)
    softmax_xent<true><<<unsigned(rows), 1024, 0, static_cast<cudaStream_t>(stream)>>>(z, target, static_cast<bf16*>(p), nll, V);
  else
    softmax_xent<false><<<unsigned(rows), 1024, 0, static_cast<cudaStream_t>(stream)>>>(z, target, static_cast<bf16*>(p), nll, V);
  return check("softmax_xent");
}

int swiglu_forward(const void* g, const void* u, void* out, int64_t n, void* stream) {
  const int64_t pairs = n / 2;
  if (pairs == 0) return 0;
  swiglu_fwd<<<elementwise_blocks(pairs), 256, 0, static_cast<cudaStream_t>(stream)>>>(
      static_cast<const __nv_bfloat162*>(g), static_cast<const __nv_bfloat162*>(u), static_cast<__nv_bfloat162*>(out),
      pairs);
  return check("swiglu_fwd");
}

int swiglu_backward(const void* dout, const void* g, const void* u, void* dg, void* du, int64_t n, void* stream) {
  const int64_t pairs = n / 2;
  if (pairs == 0) return 0;
  swiglu_bwd<<<elementwise_blocks(pairs), 256, 0, static_cast<cudaStream_t>(stream)>>>(
      static_cast<const __nv_bfloat162*>(dout), static_cast<const __nv_bfloat162*>(g),
      static_cast<const __nv_bfloat162*>(u), static_cast<__nv_bfloat162*>(dg), static_cast<__nv_bfloat162*>(du), pairs);
  return check("swiglu_bwd");
}

}  // namespace sdz::model::cuda
