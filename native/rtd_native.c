/*
 * rtd native kernels: an N-API addon that runs OpenBLAS sgemm (and a strided transpose) directly
 * on the TensorFlow.js wasm heap. The caller passes the heap's ArrayBuffer and byte offsets of
 * tensors inside it; nothing is copied. Every offset is bounds-checked against the buffer, so a
 * wrong offset throws instead of corrupting the heap. See src/runtime/native/ for the JS side.
 */
#include <node_api.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rtd_adamw.h"

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, NULL, "rtd_native: N-API call failed: " #call); \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

static int get_i64(napi_env env, napi_value v, int64_t* out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static napi_value throw_range(napi_env env, const char* what) {
  napi_throw_range_error(env, NULL, what);
  return NULL;
}

/*
 * The prologue every heap kernel shares: exactly `want` arguments into argv (at most
 * MAX_ARGS), argv[0] the wasm heap's ArrayBuffer into data/len. 0 (RangeError pending,
 * naming the kernel) on failure.
 */
#define MAX_ARGS 16
static int heap_call(napi_env env, napi_callback_info info, const char* name, size_t want, napi_value* argv, void** data, size_t* len) {
  char msg[96];
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    snprintf(msg, sizeof msg, "rtd_native.%s expects %zu arguments", name, want);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  bool is_ab = false;
  if (napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab || napi_get_arraybuffer_info(env, argv[0], data, len) != napi_ok) {
    snprintf(msg, sizeof msg, "rtd_native.%s: heap must be an ArrayBuffer", name);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

/* Bytes a [rows, cols] float matrix batch spans: (batch-1)*stride + rows*cols elements. */
static int fits(uint64_t off, int64_t batch, int64_t stride, int64_t elems, size_t len) {
  if (batch < 1 || elems < 0 || stride < 0) return 0;
  uint64_t last = (uint64_t)(batch - 1) * (uint64_t)stride + (uint64_t)elems;
  return off % 4 == 0 && off <= len && last * 4 <= len - off;
}

/*
 * sgemm(heap, batch, m, n, k, transA, transB, aOff, aStride, bOff, bStride, cOff)
 * For i in [0, batch): C_i[m, n] = op(A_i) op(B_i), row-major, where A_i starts at
 * aOff + 4*i*aStride (stride 0 = broadcast), op(A) is [m, k] (stored [k, m] if transA), op(B) is
 * [k, n] (stored [n, k] if transB), C_i at cOff + 4*i*m*n.
 */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  void* data = NULL;
  size_t len = 0;
  if (!heap_call(env, info, "sgemm", 12, argv, &data, &len)) return NULL;
  int64_t v[11];
  for (int i = 0; i < 11; i++) {
    if (!get_i64(env, argv[i + 1], &v[i])) return throw_range(env, "rtd_native.sgemm: arguments 2-12 must be numbers");
  }
  int64_t batch = v[0], m = v[1], n = v[2], k = v[3], ta = v[4], tb = v[5];
  int64_t aOff = v[6], aStride = v[7], bOff = v[8], bStride = v[9], cOff = v[10];
  if (m < 1 || n < 1 || k < 1 || batch < 1 || aOff < 0 || bOff < 0 || cOff < 0) return throw_range(env, "rtd_native.sgemm: bad dimensions or offsets");
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return throw_range(env, "rtd_native.sgemm: dimension exceeds int32");
  if (!fits((uint64_t)aOff, batch, aStride, m * k, len) || !fits((uint64_t)bOff, batch, bStride, k * n, len) ||
      !fits((uint64_t)cOff, batch, m * n, m * n, len)) {
    return throw_range(env, "rtd_native.sgemm: operand outside the heap");
  }
  char* base = (char*)data;
  for (int64_t i = 0; i < batch; i++) {
    const float* a = (const float*)(base + aOff) + i * aStride;
    const float* b = (const float*)(base + bOff) + i * bStride;
    float* c = (float*)(base + cOff) + i * m * n;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                1.0f, a, ta ? (int)m : (int)k, b, tb ? (int)k : (int)n, 0.0f, c, (int)n);
  }
  return NULL;
}

/*
 * transpose(heap, xOff, outOff, shape[], perm[], bytesPerElement)
 * out = x permuted by perm (out dim j = x dim perm[j]); element bytes 1, 2 or 4. Exact copy.
 */
static napi_value transpose(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  void* data = NULL;
  size_t len = 0;
  if (!heap_call(env, info, "transpose", 6, argv, &data, &len)) return NULL;
  int64_t xOff, outOff, bpe;
  if (!get_i64(env, argv[1], &xOff) || !get_i64(env, argv[2], &outOff) || !get_i64(env, argv[5], &bpe)) {
    return throw_range(env, "rtd_native.transpose: offsets must be numbers");
  }
  uint32_t rank = 0, prank = 0;
  CHECK(napi_get_array_length(env, argv[3], &rank));
  CHECK(napi_get_array_length(env, argv[4], &prank));
  if (rank != prank || rank < 1 || rank > 8) return throw_range(env, "rtd_native.transpose: rank 1-8, perm of the same rank");
  if (bpe != 1 && bpe != 2 && bpe != 4) return throw_range(env, "rtd_native.transpose: element size 1, 2 or 4");
  int64_t shape[8], perm[8], xstride[8], oshape[8];
  int seen[8] = {0};
  uint64_t total = 1;
  for (uint32_t i = 0; i < rank; i++) {
    napi_value e;
    CHECK(napi_get_element(env, argv[3], i, &e));
    if (!get_i64(env, e, &shape[i]) || shape[i] < 0) return throw_range(env, "rtd_native.transpose: bad shape");
    CHECK(napi_get_element(env, argv[4], i, &e));
    if (!get_i64(env, e, &perm[i]) || perm[i] < 0 || perm[i] >= rank || seen[perm[i]]++) return throw_range(env, "rtd_native.transpose: bad perm");
    total *= (uint64_t)shape[i];
  }
  if (xOff < 0 || outOff < 0 || (uint64_t)xOff > len || (uint64_t)outOff > len || total * bpe > len - xOff || total * bpe > len - outOff) {
    return throw_range(env, "rtd_native.transpose: operand outside the heap");
  }
  if (total == 0) return NULL;
  xstride[rank - 1] = 1;
  for (int i = (int)rank - 2; i >= 0; i--) xstride[i] = xstride[i + 1] * shape[i + 1];
  int64_t ostride_in_x[8];
  for (uint32_t j = 0; j < rank; j++) {
    oshape[j] = shape[perm[j]];
    ostride_in_x[j] = xstride[perm[j]];
  }
  char* base = (char*)data;
  const char* x = base + xOff;
  char* out = base + outOff;
  /* Walk the output in order; the innermost output dim is a strided gather from x. */
  int64_t idx[8] = {0};
  int64_t inner = oshape[rank - 1], istride = ostride_in_x[rank - 1];
  uint64_t rows = total / (uint64_t)inner;
  for (uint64_t r = 0; r < rows; r++) {
    int64_t src = 0;
    for (uint32_t j = 0; j + 1 < rank; j++) src += idx[j] * ostride_in_x[j];
    if (bpe == 4) {
      const uint32_t* s = (const uint32_t*)x + src;
      uint32_t* d = (uint32_t*)out + r * inner;
      for (int64_t t = 0; t < inner; t++) d[t] = s[t * istride];
    } else {
      for (int64_t t = 0; t < inner; t++) memcpy(out + (r * inner + t) * bpe, x + (src + t * istride) * bpe, (size_t)bpe);
    }
    for (int j = (int)rank - 2; j >= 0; j--) {
      if (++idx[j] < oshape[j]) break;
      idx[j] = 0;
    }
  }
  return NULL;
}

/* Reads (heap, off1, off2, ...int64) into data/len and v[]; 0 on failure (exception pending). */
static int heap_args(napi_env env, napi_callback_info info, const char* name, size_t want, void** data, size_t* len, int64_t* v) {
  napi_value argv[MAX_ARGS];
  if (!heap_call(env, info, name, want, argv, data, len)) return 0;
  for (size_t i = 1; i < want; i++) {
    if (!get_i64(env, argv[i], &v[i - 1]) || v[i - 1] < 0) {
      napi_throw_range_error(env, NULL, "rtd_native: offsets and sizes must be non-negative numbers");
      return 0;
    }
  }
  return 1;
}

/* exp(heap, xOff, outOff, n): out[i] = expf(x[i]); glibc's expf matches the wasm build's bit for bit
 * (the JS side re-checks this on probe values before registering). */
static napi_value exp_f32(napi_env env, napi_callback_info info) {
  void* data;
  size_t len;
  int64_t v[3];
  if (!heap_args(env, info, "exp", 4, &data, &len, v)) return NULL;
  int64_t xOff = v[0], outOff = v[1], n = v[2];
  if (!fits((uint64_t)xOff, 1, 0, n, len) || !fits((uint64_t)outOff, 1, 0, n, len)) return throw_range(env, "rtd_native.exp: operand outside the heap");
  const float* x = (const float*)((char*)data + xOff);
  float* out = (float*)((char*)data + outOff);
  for (int64_t i = 0; i < n; i++) out[i] = expf(x[i]);
  return NULL;
}

/* colsum(heap, xOff, outOff, rows, cols): out[j] = x[0][j] + x[1][j] + ... in row order, float32
 * accumulation from 0 -- the order the wasm Sum kernel uses after moving the axis innermost. */
static napi_value colsum_f32(napi_env env, napi_callback_info info) {
  void* data;
  size_t len;
  int64_t v[4];
  if (!heap_args(env, info, "colsum", 5, &data, &len, v)) return NULL;
  int64_t xOff = v[0], outOff = v[1], rows = v[2], cols = v[3];
  if (!fits((uint64_t)xOff, 1, 0, rows * cols, len) || !fits((uint64_t)outOff, 1, 0, cols, len)) return throw_range(env, "rtd_native.colsum: operand outside the heap");
  const float* x = (const float*)((char*)data + xOff);
  float* out = (float*)((char*)data + outOff);
  for (int64_t j = 0; j < cols; j++) out[j] = 0.0f;
  for (int64_t i = 0; i < rows; i++) {
    const float* row = x + i * cols;
    for (int64_t j = 0; j < cols; j++) out[j] += row[j];
  }
  return NULL;
}

/* Reads argument i as a double into *out; 0 (exception pending) if it is not a number. */
static int get_f64(napi_env env, napi_value v, double* out) {
  if (napi_get_value_double(env, v, out) != napi_ok) {
    napi_throw_range_error(env, NULL, "rtd_native: expected a number");
    return 0;
  }
  return 1;
}

/*
 * adamw(heap, pOff, gOff, mOff, vOff, n, c1, b1, c2, b2, sqrtBc2, eps, stepSize, decay, decays)
 * One AdamW update of n float32 values in place, bit for bit the JS loop's (rtd_adamw.h):
 *   p = decays ? p*decay - u : p - u
 * p, m and v must not overlap each other or g (they are buffers the caller owns exclusively).
 */
static napi_value adamw_f32(napi_env env, napi_callback_info info) {
  napi_value argv[15];
  void* data = NULL;
  size_t len = 0;
  if (!heap_call(env, info, "adamw", 15, argv, &data, &len)) return NULL;
  int64_t o[5];
  for (int i = 0; i < 5; i++) {
    if (!get_i64(env, argv[i + 1], &o[i]) || o[i] < 0) return throw_range(env, "rtd_native.adamw: offsets and size must be non-negative numbers");
  }
  double s[8];
  for (int i = 0; i < 8; i++) {
    if (!get_f64(env, argv[i + 6], &s[i])) return NULL;
  }
  bool decays = false;
  CHECK(napi_get_value_bool(env, argv[14], &decays));
  int64_t n = o[4];
  for (int i = 0; i < 4; i++) {
    if (!fits((uint64_t)o[i], 1, 0, n, len)) return throw_range(env, "rtd_native.adamw: operand outside the heap");
  }
  char* base = (char*)data;
  const float decay = decays ? (float)s[7] : 1.0f;
  adamw_update((float*)(base + o[0]), (const float*)(base + o[1]), (float*)(base + o[2]), (float*)(base + o[3]), 0, n, (float)s[0], (float)s[1], (float)s[2], (float)s[3],
               (float)s[4], (float)s[5], (float)s[6], decay);
  return NULL;
}

/* sumsq(heap, xOff, n) -> x[0]*x[0] + x[1]*x[1] + ... with float32 products and a float32
 * accumulator from 0 in index order: what tf.sum(tf.square(x)) computes with the native Sum
 * kernel above (a column sum of one column), without the squared copy. */
static napi_value sumsq_f32(napi_env env, napi_callback_info info) {
  void* data;
  size_t len;
  int64_t v[2];
  if (!heap_args(env, info, "sumsq", 3, &data, &len, v)) return NULL;
  int64_t xOff = v[0], n = v[1];
  if (!fits((uint64_t)xOff, 1, 0, n, len)) return throw_range(env, "rtd_native.sumsq: operand outside the heap");
  const float* x = (const float*)((char*)data + xOff);
  float acc = 0.0f;
  for (int64_t i = 0; i < n; i++) {
    const float sq = x[i] * x[i];
    acc += sq;
  }
  napi_value out;
  CHECK(napi_create_double(env, (double)acc, &out));
  return out;
}

/* scale(heap, xOff, n, c): x[i] = x[i] * (float)c in place (gradient clipping; bit for bit the
 * JS loop's fround(x[i] * fround(c))). */
static napi_value scale_f32(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  void* data = NULL;
  size_t len = 0;
  if (!heap_call(env, info, "scale", 4, argv, &data, &len)) return NULL;
  int64_t xOff, n;
  double c;
  if (!get_i64(env, argv[1], &xOff) || !get_i64(env, argv[2], &n) || xOff < 0 || n < 0) return throw_range(env, "rtd_native.scale: offset and size must be non-negative numbers");
  if (!get_f64(env, argv[3], &c)) return NULL;
  if (!fits((uint64_t)xOff, 1, 0, n, len)) return throw_range(env, "rtd_native.scale: operand outside the heap");
  float* x = (float*)((char*)data + xOff);
  const float cf = (float)c;
  for (int64_t i = 0; i < n; i++) x[i] = x[i] * cf;
  return NULL;
}

/* Bytes [off, off+bytes) inside a heap of len bytes. */
static int span_fits(int64_t off, uint64_t bytes, size_t len) {
  return off >= 0 && (uint64_t)off <= len && bytes <= len - (uint64_t)off;
}

/*
 * gather(heap, xOff, idxOff, outOff, batch, outer, dim, slice, nIdx, bytesPerElement) -> -1 or i
 * GatherV2 with x viewed as [batch, outer, dim, slice] and int32 indices as [batch, nIdx]:
 * out[b][o][i][:] = x[b][o][idx[b][i]][:] (one memcpy of slice elements per row), the layout the
 * wasm Gather kernel uses. All indices are checked first: if idx[j] is outside [0, dim) nothing
 * is written and j is returned, so the caller can leave the error to the stock kernel.
 */
static napi_value gather(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  void* data = NULL;
  size_t len = 0;
  if (!heap_call(env, info, "gather", 10, argv, &data, &len)) return NULL;
  int64_t v[9];
  for (int i = 0; i < 9; i++) {
    if (!get_i64(env, argv[i + 1], &v[i]) || v[i] < 0) return throw_range(env, "rtd_native.gather: offsets and sizes must be non-negative numbers");
  }
  int64_t xOff = v[0], idxOff = v[1], outOff = v[2], batch = v[3], outer = v[4], dim = v[5], slice = v[6], nIdx = v[7], bpe = v[8];
  if (bpe != 1 && bpe != 2 && bpe != 4) return throw_range(env, "rtd_native.gather: element size 1, 2 or 4");
  const uint64_t limit = (uint64_t)1 << 40;
  if ((uint64_t)batch > limit || (uint64_t)outer > limit || (uint64_t)dim > limit || (uint64_t)slice > limit || (uint64_t)nIdx > limit) {
    return throw_range(env, "rtd_native.gather: size too large");
  }
  uint64_t rowBytes = (uint64_t)slice * (uint64_t)bpe;
  if (idxOff % 4 != 0 || !span_fits(idxOff, (uint64_t)batch * (uint64_t)nIdx * 4, len) ||
      !span_fits(xOff, (uint64_t)batch * (uint64_t)outer * (uint64_t)dim * rowBytes, len) ||
      !span_fits(outOff, (uint64_t)batch * (uint64_t)outer * (uint64_t)nIdx * rowBytes, len)) {
    return throw_range(env, "rtd_native.gather: operand outside the heap");
  }
  char* base = (char*)data;
  const int32_t* idx = (const int32_t*)(base + idxOff);
  napi_value result;
  for (int64_t j = 0; j < batch * nIdx; j++) {
    if (idx[j] < 0 || (int64_t)idx[j] >= dim) {
      CHECK(napi_create_int64(env, j, &result));
      return result;
    }
  }
  const char* x = base + xOff;
  char* out = base + outOff;
  for (int64_t b = 0; b < batch; b++) {
    const int32_t* bi = idx + b * nIdx;
    for (int64_t o = 0; o < outer; o++) {
      const char* src = x + ((uint64_t)(b * outer + o) * (uint64_t)dim) * rowBytes;
      char* dst = out + ((uint64_t)(b * outer + o) * (uint64_t)nIdx) * rowBytes;
      for (int64_t i = 0; i < nIdx; i++) memcpy(dst + (uint64_t)i * rowBytes, src + (uint64_t)bi[i] * rowBytes, rowBytes);
    }
  }
  CHECK(napi_create_int64(env, -1, &result));
  return result;
}

/*
 * slice(heap, xOff, outOff, shape[], begin[], size[], bytesPerElement)
 * out = x[begin[0]:begin[0]+size[0], ...] (rank 1-8; begin and size already resolved, no -1).
 * Trailing dims taken whole merge into one contiguous run, copied with one memcpy each.
 */
static napi_value slice_copy(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  void* data = NULL;
  size_t len = 0;
  if (!heap_call(env, info, "slice", 7, argv, &data, &len)) return NULL;
  int64_t xOff, outOff, bpe;
  if (!get_i64(env, argv[1], &xOff) || !get_i64(env, argv[2], &outOff) || !get_i64(env, argv[6], &bpe)) {
    return throw_range(env, "rtd_native.slice: offsets must be numbers");
  }
  if (bpe != 1 && bpe != 2 && bpe != 4) return throw_range(env, "rtd_native.slice: element size 1, 2 or 4");
  uint32_t rank = 0, brank = 0, srank = 0;
  CHECK(napi_get_array_length(env, argv[3], &rank));
  CHECK(napi_get_array_length(env, argv[4], &brank));
  CHECK(napi_get_array_length(env, argv[5], &srank));
  if (rank < 1 || rank > 8 || brank != rank || srank != rank) return throw_range(env, "rtd_native.slice: rank 1-8, begin and size of the same rank");
  int64_t shape[8], begin[8], size[8];
  uint64_t xTotal = 1, outTotal = 1;
  for (uint32_t i = 0; i < rank; i++) {
    napi_value e;
    CHECK(napi_get_element(env, argv[3], i, &e));
    if (!get_i64(env, e, &shape[i]) || shape[i] < 0 || shape[i] > ((int64_t)1 << 40)) return throw_range(env, "rtd_native.slice: bad shape");
    CHECK(napi_get_element(env, argv[4], i, &e));
    if (!get_i64(env, e, &begin[i])) return throw_range(env, "rtd_native.slice: bad begin");
    CHECK(napi_get_element(env, argv[5], i, &e));
    if (!get_i64(env, e, &size[i])) return throw_range(env, "rtd_native.slice: bad size");
    if (begin[i] < 0 || size[i] < 0 || begin[i] > shape[i] || size[i] > shape[i] - begin[i]) return throw_range(env, "rtd_native.slice: slice outside the input");
    xTotal *= (uint64_t)shape[i];
    outTotal *= (uint64_t)size[i];
  }
  if (!span_fits(xOff, xTotal * (uint64_t)bpe, len) || !span_fits(outOff, outTotal * (uint64_t)bpe, len)) {
    return throw_range(env, "rtd_native.slice: operand outside the heap");
  }
  if (outTotal == 0) return NULL;
  /* Merge trailing dims taken whole (and the first partial one) into one run of `run` elements. */
  int k = (int)rank - 1;
  uint64_t run = (uint64_t)size[k];
  while (k > 0 && size[k] == shape[k]) {
    k--;
    run *= (uint64_t)size[k];
  }
  int64_t xstride[8];
  xstride[rank - 1] = 1;
  for (int i = (int)rank - 2; i >= 0; i--) xstride[i] = xstride[i + 1] * shape[i + 1];
  /* Dims 0..k-1 are walked; dim k onward is one run starting at begin. */
  int64_t start = 0;
  for (uint32_t i = 0; i < rank; i++) start += begin[i] * xstride[i];
  const char* x = (const char*)data + xOff;
  char* out = (char*)data + outOff;
  uint64_t runBytes = run * (uint64_t)bpe;
  uint64_t runs = outTotal / run;
  int64_t idx[8] = {0};
  for (uint64_t r = 0; r < runs; r++) {
    int64_t src = start;
    for (int j = 0; j < k; j++) src += idx[j] * xstride[j];
    memcpy(out + r * runBytes, x + (uint64_t)src * (uint64_t)bpe, runBytes);
    for (int j = k - 1; j >= 0; j--) {
      if (++idx[j] < size[j]) break;
      idx[j] = 0;
    }
  }
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t n = 1;
  if (argc != 1 || !get_i64(env, argv[0], &n) || n < 1 || n > 256) return throw_range(env, "rtd_native.setThreads expects 1-256");
  openblas_set_num_threads((int)n);
  return NULL;
}

static napi_value blas_config(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &out));
  return out;
}

void rtd_register_node_kernels(napi_env env, napi_value exports); /* rtd_node_kernels.c */
void rtd_register_sampling(napi_env env, napi_value exports);     /* rtd_sampling.c */

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"transpose", NULL, transpose, NULL, NULL, NULL, napi_default, NULL},
      {"exp", NULL, exp_f32, NULL, NULL, NULL, napi_default, NULL},
      {"colsum", NULL, colsum_f32, NULL, NULL, NULL, napi_default, NULL},
      {"adamw", NULL, adamw_f32, NULL, NULL, NULL, napi_default, NULL},
      {"sumsq", NULL, sumsq_f32, NULL, NULL, NULL, napi_default, NULL},
      {"scale", NULL, scale_f32, NULL, NULL, NULL, napi_default, NULL},
      {"gather", NULL, gather, NULL, NULL, NULL, napi_default, NULL},
      {"slice", NULL, slice_copy, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"blasConfig", NULL, blas_config, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  rtd_register_node_kernels(env, exports);
  rtd_register_sampling(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
