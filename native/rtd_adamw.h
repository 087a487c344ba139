/*
 * One AdamW update of elements [i0, i1) of p, m and v in place (src/train/adamw.ts,
 * updateInPlace), shared by the wasm-heap kernel (rtd_native.c) and the pooled one on Node
 * memory (rtd_node_kernels.c). Every scalar is rounded to float32 as tfjs would, and every
 * operation is rounded to float32 in the same order (no contraction: binding.gyp builds with
 * -ffp-contract=off), so the result is bit for bit the JS loop's (sqrtf is correctly rounded,
 * like fround(Math.sqrt(x)) of a float):
 *   m = g*c1 + m*b1;  v = (g*g)*c2 + v*b2;  u = (m / (sqrt(v)/sqrtBc2 + eps)) * stepSize
 *   p = p*keep - u    (keep: the weight decay factor, or 1 where there is none: p*1 is p exactly)
 * p, m and v must not overlap each other or g.
 */
#ifndef RTD_ADAMW_H
#define RTD_ADAMW_H

#include <math.h>
#include <stdint.h>

static inline void adamw_update(float* restrict p, const float* restrict g, float* restrict m, float* restrict v, int64_t i0, int64_t i1, float c1, float b1, float c2,
                                float b2, float bc2, float eps, float step, float keep) {
  for (int64_t i = i0; i < i1; i++) {
    const float gi = g[i];
    const float mi = gi * c1 + m[i] * b1;
    const float vi = (gi * gi) * c2 + v[i] * b2;
    m[i] = mi;
    v[i] = vi;
    const float u = (mi / (sqrtf(vi) / bc2 + eps)) * step;
    p[i] = p[i] * keep - u;
  }
}

#endif
