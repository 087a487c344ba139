/*
 * rtd native backend kernels: C kernels on TypedArrays in ordinary Node memory (the `native`
 * TensorFlow.js backend, src/runtime/native-backend/). Each kernel receives the tensors' own
 * Float32Array/Int32Array/Uint8Array storage and works in place on it: nothing is copied.
 * Every length is checked against the arrays before any pointer is touched, so a wrong shape
 * throws a RangeError instead of reading past an array.
 *
 * Threading: one pool, OpenMP's, over runtime.threads cores, for every loop and for the matrix
 * products too (OpenBLAS's single-threaded sgemm on row or column blocks, or on whole products
 * of a batch, per OpenMP thread; OpenBLAS's own threads stay idle). Two pools on two cores spin
 * and yield against each other between kernels.
 */
#include <node_api.h>
#include <cblas.h>
#include "rtd_pool.h"
#include "rtd_adamw.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define NK_CHECK(call)                                                  \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, NULL, "rtd_native: N-API call failed: " #call); \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

/* Below this many elements a loop stays on one thread (a fork/join costs a few microseconds). */
#define PAR_MIN 32768

static int nk_threads = 1;

/*
 * erf and exp on blocks of floats. With glibc's libmvec (RTD_HAVE_MVEC, probed by build.mjs)
 * they run 4 floats per call (SSE); glibc's scalar erff/expf are a quarter of GELU's and
 * softmax's time. Accuracy, against the correctly rounded value over every 7th float: erf at
 * most 2 ulp, exp at most 3 ulp (glibc's scalar ones: 1). Every element goes through the vector
 * function (the tail too, padded), so a value never depends on its position in the block.
 */
#if defined(RTD_HAVE_MVEC) && defined(__x86_64__)
#include <emmintrin.h>
__m128 _ZGVbN4v_erff(__m128);
__m128 _ZGVbN4v_expf(__m128);
#define VEC_MATH(NAME, VF)                                                  \
  static void NAME(const float* x, float* y, int64_t n) {                  \
    int64_t i = 0;                                                         \
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(y + i, VF(_mm_loadu_ps(x + i))); \
    if (i < n) {                                                           \
      float in[4] = {0, 0, 0, 0}, out[4];                                  \
      for (int64_t j = i; j < n; j++) in[j - i] = x[j];                    \
      _mm_storeu_ps(out, VF(_mm_loadu_ps(in)));                            \
      for (int64_t j = i; j < n; j++) y[j] = out[j - i];                   \
    }                                                                      \
  }
VEC_MATH(vec_erf, _ZGVbN4v_erff)
VEC_MATH(vec_exp, _ZGVbN4v_expf)
#undef VEC_MATH
#else
static void vec_erf(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = erff(x[i]);
}
static void vec_exp(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = expf(x[i]);
}
#endif

/* Elementwise loops that call vec_erf/vec_exp work on blocks of this many floats (on the stack). */
#define VBLOCK 512

/*
 * Loops over [0, n) run through par_range: inline when the work is small, else as a few chunks
 * per thread on rtd_pool (rtd_pool.h), where the calling thread never waits for a thread that
 * has not started. Every element's operations are the same whichever chunk holds it.
 */
typedef void (*range_fn)(const void* ctx, int64_t begin, int64_t end);

typedef struct {
  range_fn fn;
  const void* ctx;
  int64_t n, chunks;
} range_job;

static void range_chunk(const void* arg, int64_t c) {
  const range_job* j = (const range_job*)arg;
  j->fn(j->ctx, j->n * c / j->chunks, j->n * (c + 1) / j->chunks);
}

/* fn over [0, n) in `chunks` fixed pieces (chunk c: [n·c/chunks, n·(c+1)/chunks)) on the pool. */
static void par_chunks(int64_t n, int64_t chunks, range_fn fn, const void* ctx) {
  if (n <= 0) return;
  if (chunks > n) chunks = n;
  if (chunks <= 1) {
    fn(ctx, 0, n);
    return;
  }
  const range_job j = {fn, ctx, n, chunks};
  pool_run(range_chunk, &j, chunks, nk_threads);
}

/* fn over [0, n): inline when work (elements touched) is at most PAR_MIN, else 4 chunks per thread. */
static void par_range(int64_t n, uint64_t work, range_fn fn, const void* ctx) {
  par_chunks(n, nk_threads <= 1 || work <= PAR_MIN ? 1 : 4 * (int64_t)nk_threads, fn, ctx);
}

static napi_value nk_throw(napi_env env, const char* kernel, const char* what) {
  char msg[160];
  snprintf(msg, sizeof msg, "rtd_native.%s: %s", kernel, what);
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

/* A TypedArray argument: its data pointer (at its byteOffset), element count and type. */
typedef struct {
  void* data;
  size_t length;
  napi_typedarray_type type;
} nk_array;

static int nk_get_array(napi_env env, napi_value v, nk_array* out) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_value ab;
  size_t off;
  return napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &ab, &off) == napi_ok;
}

static int nk_f32(napi_env env, napi_value v, nk_array* out) {
  return nk_get_array(env, v, out) && out->type == napi_float32_array;
}

/* Element size of an array rtd stores tensors in: float32/int32 4, bool (Uint8Array) 1. */
static int nk_bpe(const nk_array* a) {
  switch (a->type) {
    case napi_float32_array:
    case napi_int32_array:
    case napi_uint32_array:
      return 4;
    case napi_uint8_array:
    case napi_int8_array:
      return 1;
    default:
      return 0;
  }
}

static int nk_i64(napi_env env, napi_value v, int64_t* out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

/* Reads a JS array of at most 8 integers. */
static int nk_dims(napi_env env, napi_value v, int64_t* out, uint32_t* rank) {
  bool is = false;
  if (napi_is_array(env, v, &is) != napi_ok || !is) return 0;
  if (napi_get_array_length(env, v, rank) != napi_ok || *rank > 8) return 0;
  for (uint32_t i = 0; i < *rank; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok || !nk_i64(env, e, &out[i])) return 0;
  }
  return 1;
}

static int nk_args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == want;
}

/* ---------------------------------------------------------------- matmul */

enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_RELU6 = 2, ACT_ELU = 3, ACT_LEAKY = 4, ACT_SIGMOID = 5, ACT_GELU = 6 };

static inline float gelu_exact(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

static inline float activate(float v, int act, float alpha) {
  switch (act) {
    case ACT_RELU: return v > 0.0f ? v : 0.0f;
    case ACT_RELU6: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    case ACT_ELU: return v >= 0.0f ? v : expm1f(v);
    case ACT_LEAKY: return v >= 0.0f ? v : alpha * v;
    case ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case ACT_GELU: return gelu_exact(v);
    default: return v;
  }
}

/*
 * The products run on OpenBLAS's single-threaded sgemm, threaded here with OpenMP: a batch
 * splits into whole products per thread, a single product into row (or column) blocks. OpenBLAS's
 * own thread pool stays idle, so only one pool ever runs; two pools (OpenMP for the elementwise
 * loops, OpenBLAS's pthreads for sgemm) spin and yield against each other on two cores, which
 * cost a third of the step's CPU time.
 */
typedef struct {
  const float* a;
  const float* b;
  float* c;
  const float* bias;
  int64_t m, n, k, aStride, bStride, biasLen;
  int64_t biasRows; /* 0: bias per column; else the bias has biasRows rows of n (indexed by row % biasRows) per product, or per batch */
  int ta, tb, act;
  float alpha;
} mm_job;

/* One OpenBLAS thread: the products are threaded here (rtd_pool), never by OpenBLAS's own pool. */
static void blas_single_thread(void) {
  const int want = 1;
  if (openblas_get_num_threads() != want) openblas_set_num_threads(want);
}

/* Bias and activation over rows [r0, r1) x columns [c0, c1) of product i, while still in cache. */
static void mm_epilogue(const mm_job* j, int64_t i, int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
  if (j->bias == NULL && j->act == ACT_LINEAR) return;
  for (int64_t r = r0; r < r1; r++) {
    float* row = j->c + (i * j->m + r) * j->n;
    const float* br = NULL;
    if (j->bias != NULL) {
      if (j->biasRows == 0) br = j->bias;
      else if (j->biasLen == j->biasRows * j->n) br = j->bias + (r % j->biasRows) * j->n;
      else br = j->bias + (i * j->m + r) * j->n;
    }
    if (j->act == ACT_LINEAR) {
      for (int64_t t = c0; t < c1; t++) row[t] += br[t];
    } else {
      for (int64_t t = c0; t < c1; t++) row[t] = activate(br ? row[t] + br[t] : row[t], j->act, j->alpha);
    }
  }
}

/* Part `part` of `parts` of product i: a block of rows (or of columns when n > m). */
static void mm_task(const mm_job* j, int64_t i, int parts, int part) {
  const int64_t m = j->m, n = j->n, k = j->k;
  const int lda = j->ta ? (int)m : (int)k, ldb = j->tb ? (int)k : (int)n;
  const float* a = j->a + i * j->aStride;
  const float* b = j->b + i * j->bStride;
  float* c = j->c + i * m * n;
  int64_t r0 = 0, r1 = m, c0 = 0, c1 = n;
  /* block edges on multiples of 16 (the sgemm micro-kernels' tile) */
  if (parts > 1 && m >= n) {
    r0 = ((m * part / parts) + 8) / 16 * 16;
    r1 = part == parts - 1 ? m : ((m * (part + 1) / parts) + 8) / 16 * 16;
    if (r0 > m) r0 = m;
    if (r1 > m) r1 = m;
  } else if (parts > 1) {
    c0 = ((n * part / parts) + 8) / 16 * 16;
    c1 = part == parts - 1 ? n : ((n * (part + 1) / parts) + 8) / 16 * 16;
    if (c0 > n) c0 = n;
    if (c1 > n) c1 = n;
  }
  if (r1 <= r0 || c1 <= c0) return;
  if (k == 0) {
    for (int64_t r = r0; r < r1; r++) memset(c + r * n + c0, 0, sizeof(float) * (size_t)(c1 - c0));
  } else {
    const float* ap = j->ta ? a + r0 : a + r0 * lda;
    const float* bp = j->tb ? b + c0 * ldb : b + c0;
    cblas_sgemm(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans, j->tb ? CblasTrans : CblasNoTrans, (int)(r1 - r0), (int)(c1 - c0), (int)k, 1.0f, ap, lda, bp,
                ldb, 0.0f, c + r0 * n + c0, (int)n);
  }
  mm_epilogue(j, i, r0, r1, c0, c1);
}

typedef struct {
  const mm_job* job;
  int parts;
} mm_split;

static void mm_chunk(const void* arg, int64_t t) {
  const mm_split* s = (const mm_split*)arg;
  mm_task(s->job, t / s->parts, s->parts, (int)(t % s->parts));
}

static void mm_run(const mm_job* j, int64_t batch) {
  blas_single_thread();
  const int T = nk_threads;
  const double flops = (double)batch * (double)j->m * (double)j->n * (double)(j->k > 0 ? j->k : 1);
  if (T <= 1 || flops < 65536.0) {
    for (int64_t i = 0; i < batch; i++) mm_task(j, i, 1, 0);
    return;
  }
  /* Whole products when there are enough of them, else every product in blocks: a few chunks per
   * thread, so a thread that starts late (its core taken by another process) leaves its share to
   * the others instead of holding them up (rtd_pool.h). */
  const int64_t want = 2 * (int64_t)T;
  int parts = batch >= want ? 1 : (int)((want + batch - 1) / batch);
  const int64_t span = j->m >= j->n ? j->m : j->n;
  while (parts > 1 && span / parts < 32) parts--;
  const mm_split split = {j, parts};
  pool_run(mm_chunk, &split, batch * parts, T);
}

/*
 * mm(a, b, c, batch, m, n, k, transA, transB, aStride, bStride, bias|null, act, alpha)
 * C_i[m, n] = act(op(A_i) op(B_i) + bias) for i in [0, batch), row-major; A_i starts at element
 * i*aStride of a (stride 0 broadcasts), B_i at i*bStride of b, C_i at i*m*n of c. op(A) is
 * [m, k] (stored [k, m] when transA), op(B) is [k, n] (stored [n, k] when transB). bias has n
 * elements (one per column), m*n (one per output, shared by the batch) or batch*m*n.
 */
static napi_value nk_mm(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  if (!nk_args(env, info, 14, argv)) return nk_throw(env, "mm", "expects 14 arguments");
  nk_array A, B, C, Bias = {0};
  if (!nk_f32(env, argv[0], &A) || !nk_f32(env, argv[1], &B) || !nk_f32(env, argv[2], &C)) return nk_throw(env, "mm", "a, b and c must be Float32Arrays");
  int64_t v[9];
  for (int i = 0; i < 8; i++) {
    if (!nk_i64(env, argv[3 + i], &v[i])) return nk_throw(env, "mm", "sizes must be numbers");
  }
  if (!nk_i64(env, argv[12], &v[8])) return nk_throw(env, "mm", "act must be a number");
  int64_t batch = v[0], m = v[1], n = v[2], k = v[3], ta = v[4], tb = v[5], aStride = v[6], bStride = v[7];
  napi_valuetype bt;
  NK_CHECK(napi_typeof(env, argv[11], &bt));
  int hasBias = bt != napi_null && bt != napi_undefined;
  if (hasBias && !nk_f32(env, argv[11], &Bias)) return nk_throw(env, "mm", "bias must be a Float32Array or null");
  int64_t act = v[8];
  double alphaD = 0;
  NK_CHECK(napi_get_value_double(env, argv[13], &alphaD));
  if (batch < 1 || m < 1 || n < 1 || k < 0 || aStride < 0 || bStride < 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return nk_throw(env, "mm", "bad sizes");
  if ((uint64_t)(batch - 1) * aStride + (uint64_t)(m * k) > A.length || (uint64_t)(batch - 1) * bStride + (uint64_t)(k * n) > B.length ||
      (uint64_t)(batch * m * n) > C.length) {
    return nk_throw(env, "mm", "operand shorter than its shape");
  }
  int64_t biasLen = hasBias ? (int64_t)Bias.length : 0;
  if (hasBias && biasLen != n && biasLen != m * n && biasLen != batch * m * n) return nk_throw(env, "mm", "bias must have n, m*n or batch*m*n elements");
  mm_job job = {
      .a = (const float*)A.data, .b = (const float*)B.data, .c = (float*)C.data, .bias = hasBias ? (const float*)Bias.data : NULL,
      .m = m, .n = n, .k = k, .ta = (int)ta, .tb = (int)tb, .aStride = aStride, .bStride = bStride, .biasLen = biasLen,
      .act = (int)act, .alpha = (float)alphaD,
  };
  if (batch > 1 && bStride == 0 && !ta && aStride == m * k) {
    /* A shared right operand: A's batch folds into M (one product of batch*m rows). */
    job.m = batch * m;
    job.aStride = 0;
    if (biasLen == m * n) job.biasRows = m; /* the bias repeats every m rows */
    batch = 1;
  }
  if (job.biasRows == 0) job.biasRows = biasLen == n ? 0 : job.m;
  mm_run(&job, batch);
  return NULL;
}

/* ---------------------------------------------------------------- elementwise */

enum { B_ADD = 0, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_SQDIFF };

static inline float bin(int op, float x, float y) {
  switch (op) {
    case B_ADD: return x + y;
    case B_SUB: return x - y;
    case B_MUL: return x * y;
    case B_DIV: return x / y;
    case B_MAX: return (x > y || isnan(x)) ? x : y;
    case B_MIN: return (x < y || isnan(x)) ? x : y;
    default: { float d = x - y; return d * d; }
  }
}

/* One row of out = a op b. The contiguous and broadcast-scalar cases get their own loops so the
 * compiler vectorizes them (a loop with variable strides does not). */
#define BIN_ROW(EXPR)                                                                  \
  if (sa == 1 && sb == 1) {                                                            \
    for (int64_t t = 0; t < inner; t++) { const float x = pa[t], y = pb[t]; po[t] = (EXPR); } \
  } else if (sa == 1 && sb == 0) {                                                     \
    const float y = pb[0];                                                             \
    for (int64_t t = 0; t < inner; t++) { const float x = pa[t]; po[t] = (EXPR); }     \
  } else if (sa == 0 && sb == 1) {                                                     \
    const float x = pa[0];                                                             \
    for (int64_t t = 0; t < inner; t++) { const float y = pb[t]; po[t] = (EXPR); }     \
  } else {                                                                             \
    for (int64_t t = 0; t < inner; t++) { const float x = pa[t * sa], y = pb[t * sb]; po[t] = (EXPR); } \
  }

static void bin_row(int op, const float* pa, int64_t sa, const float* pb, int64_t sb, float* po, int64_t inner) {
  switch (op) {
    case B_ADD: BIN_ROW(x + y) break;
    case B_SUB: BIN_ROW(x - y) break;
    case B_MUL: BIN_ROW(x * y) break;
    case B_DIV: BIN_ROW(x / y) break;
    case B_SQDIFF: BIN_ROW((x - y) * (x - y)) break;
    default: BIN_ROW(bin(op, x, y)) break;
  }
}

typedef struct {
  int op, rank;
  const float* a;
  const float* b;
  float* o;
  const int64_t *shape, *as, *bs;
} binary_ctx;

static void binary_rows(const void* p, int64_t r0, int64_t r1) {
  const binary_ctx* c = (const binary_ctx*)p;
  const int rank = c->rank;
  const int64_t inner = c->shape[rank - 1], sa = c->as[rank - 1], sb = c->bs[rank - 1];
  for (int64_t r = r0; r < r1; r++) {
    int64_t rem = r, ao = 0, bo = 0;
    for (int d = rank - 2; d >= 0; d--) {
      int64_t i = rem % c->shape[d];
      rem /= c->shape[d];
      ao += i * c->as[d];
      bo += i * c->bs[d];
    }
    bin_row(c->op, c->a + ao, sa, c->b + bo, sb, c->o + r * inner, inner);
  }
}

/*
 * binary(op, a, b, out, outShape[], aStrides[], bStrides[])
 * out[i] = a[i'] op b[i''] with numpy broadcasting: the strides are in elements per output
 * dimension (0 where the operand is broadcast). Rank 1-8 after the caller merged dims.
 */
static napi_value nk_binary(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!nk_args(env, info, 7, argv)) return nk_throw(env, "binary", "expects 7 arguments");
  int64_t op;
  nk_array A, B, O;
  if (!nk_i64(env, argv[0], &op) || op < 0 || op > B_SQDIFF) return nk_throw(env, "binary", "bad op");
  if (!nk_f32(env, argv[1], &A) || !nk_f32(env, argv[2], &B) || !nk_f32(env, argv[3], &O)) return nk_throw(env, "binary", "operands must be Float32Arrays");
  int64_t shape[8], as[8], bs[8];
  uint32_t r1, r2, r3;
  if (!nk_dims(env, argv[4], shape, &r1) || !nk_dims(env, argv[5], as, &r2) || !nk_dims(env, argv[6], bs, &r3) || r1 != r2 || r1 != r3 || r1 < 1) {
    return nk_throw(env, "binary", "shape and strides must be arrays of the same rank 1-8");
  }
  int rank = (int)r1;
  uint64_t total = 1, amax = 0, bmax = 0;
  for (int i = 0; i < rank; i++) {
    if (shape[i] < 0 || as[i] < 0 || bs[i] < 0) return nk_throw(env, "binary", "negative size or stride");
    total *= (uint64_t)shape[i];
    if (shape[i] > 0) {
      amax += (uint64_t)(shape[i] - 1) * (uint64_t)as[i];
      bmax += (uint64_t)(shape[i] - 1) * (uint64_t)bs[i];
    }
  }
  if (total == 0) return NULL;
  if (total > O.length || amax >= A.length || bmax >= B.length) return nk_throw(env, "binary", "operand shorter than its shape");
  const float* a = (const float*)A.data;
  const float* b = (const float*)B.data;
  float* o = (float*)O.data;
  const binary_ctx ctx = {(int)op, rank, a, b, o, shape, as, bs};
  par_range((int64_t)(total / (uint64_t)shape[rank - 1]), total, binary_rows, &ctx);
  return NULL;
}

enum {
  U_EXP = 0, U_LOG, U_NEG, U_SQRT, U_RSQRT, U_SQUARE, U_ABS, U_TANH, U_SIGMOID, U_RELU, U_ERF, U_RECIP, U_GELU, U_SCALE, U_ADDC,
  U_FLOOR, U_LAST
};

typedef struct {
  int op;
  const float* x;
  float* o;
  float c;
  int64_t n;
} unary_ctx;

/* Blocks [b0, b1) of VBLOCK elements of out = f(x). */
static void unary_blocks(const void* p, int64_t b0, int64_t b1) {
  const unary_ctx* u = (const unary_ctx*)p;
  const int64_t i0 = b0 * VBLOCK, i1 = b1 * VBLOCK < u->n ? b1 * VBLOCK : u->n;
  const float* x = u->x;
  float* o = u->o;
  const float c = u->c;
#define U_LOOP(EXPR)                     \
  for (int64_t i = i0; i < i1; i++) {    \
    const float v = x[i];                \
    o[i] = (EXPR);                       \
  }                                      \
  break;
  switch (u->op) {
    case U_EXP:
      for (int64_t i = i0; i < i1; i += VBLOCK) vec_exp(x + i, o + i, i1 - i < VBLOCK ? i1 - i : VBLOCK);
      break;
    case U_ERF:
      for (int64_t i = i0; i < i1; i += VBLOCK) vec_erf(x + i, o + i, i1 - i < VBLOCK ? i1 - i : VBLOCK);
      break;
    case U_LOG: U_LOOP(logf(v))
    case U_NEG: U_LOOP(-v)
    case U_SQRT: U_LOOP(sqrtf(v))
    case U_RSQRT: U_LOOP(1.0f / sqrtf(v))
    case U_SQUARE: U_LOOP(v * v)
    case U_ABS: U_LOOP(fabsf(v))
    case U_TANH: U_LOOP(tanhf(v))
    case U_SIGMOID: U_LOOP(1.0f / (1.0f + expf(-v)))
    case U_RELU: U_LOOP(v > 0.0f ? v : (isnan(v) ? v : 0.0f))
    case U_RECIP: U_LOOP(1.0f / v)
    case U_GELU: U_LOOP(gelu_exact(v))
    case U_SCALE: U_LOOP(v * c)
    case U_ADDC: U_LOOP(v + c)
    case U_FLOOR: U_LOOP(floorf(v))
  }
#undef U_LOOP
}

/* unary(op, x, out, n, c): out[i] = f(x[i]) for float32 (c: the constant of scale/add-constant). */
static napi_value nk_unary(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!nk_args(env, info, 5, argv)) return nk_throw(env, "unary", "expects 5 arguments");
  int64_t op, n;
  nk_array X, O;
  double cd;
  if (!nk_i64(env, argv[0], &op) || op < 0 || op >= U_LAST) return nk_throw(env, "unary", "bad op");
  if (!nk_f32(env, argv[1], &X) || !nk_f32(env, argv[2], &O)) return nk_throw(env, "unary", "operands must be Float32Arrays");
  if (!nk_i64(env, argv[3], &n) || n < 0 || (uint64_t)n > X.length || (uint64_t)n > O.length) return nk_throw(env, "unary", "bad size");
  NK_CHECK(napi_get_value_double(env, argv[4], &cd));
  const unary_ctx ctx = {(int)op, (const float*)X.data, (float*)O.data, (float)cd, n};
  /* blocks of VBLOCK elements (vec_exp and vec_erf work on whole blocks) */
  par_range((n + VBLOCK - 1) / VBLOCK, (uint64_t)n, unary_blocks, &ctx);
  return NULL;
}

/* ---------------------------------------------------------------- reductions */

enum { R_SUM = 0, R_MEAN, R_MAX, R_MIN };

typedef struct {
  int op;
  const float* x;
  float* o;
  int64_t outer, inner, rows, per;
} reduce_ctx;

/* inner == 1: out[q] = op over the contiguous row q. */
static void reduce_rows(const void* p_, int64_t q0, int64_t q1) {
  const reduce_ctx* c = (const reduce_ctx*)p_;
  const int op = c->op;
  const int64_t rows = c->rows;
  for (int64_t q = q0; q < q1; q++) {
    const float* p = c->x + q * rows;
    if (op == R_SUM || op == R_MEAN) {
      double s = 0;
      for (int64_t r = 0; r < rows; r++) s += p[r];
      c->o[q] = (float)(op == R_MEAN ? s / (double)rows : s);
    } else {
      float s = p[0];
      for (int64_t r = 1; r < rows; r++) {
        const float v = p[r];
        if (op == R_MAX ? (v > s || isnan(v)) : (v < s || isnan(v))) s = v;
      }
      c->o[q] = s;
    }
  }
}

/* Column-wise: chunks of up to 256 columns (per = chunks per outer index), rows read in order. */
static void reduce_columns(const void* p_, int64_t ch0, int64_t ch1) {
  const reduce_ctx* c = (const reduce_ctx*)p_;
  const int op = c->op;
  const int64_t rows = c->rows, inner = c->inner, per = c->per;
  for (int64_t ch = ch0; ch < ch1; ch++) {
    int64_t q = ch / per, i0 = (ch % per) * 256;
    int64_t w = inner - i0 < 256 ? inner - i0 : 256;
    double acc[256];
    const float* base = c->x + q * rows * inner + i0;
    float* dst = c->o + q * inner + i0;
    if (op == R_SUM || op == R_MEAN) {
      for (int64_t j = 0; j < w; j++) acc[j] = 0;
      for (int64_t r = 0; r < rows; r++) {
        const float* p = base + r * inner;
        for (int64_t j = 0; j < w; j++) acc[j] += p[j];
      }
      for (int64_t j = 0; j < w; j++) dst[j] = (float)(op == R_MEAN ? acc[j] / (double)rows : acc[j]);
    } else {
      for (int64_t j = 0; j < w; j++) acc[j] = base[j];
      for (int64_t r = 1; r < rows; r++) {
        const float* p = base + r * inner;
        for (int64_t j = 0; j < w; j++) {
          const float v = p[j];
          if (op == R_MAX ? (v > acc[j] || isnan(v)) : (v < acc[j] || isnan(v))) acc[j] = v;
        }
      }
      for (int64_t j = 0; j < w; j++) dst[j] = (float)acc[j];
    }
  }
}

/*
 * reduce(op, x, out, outer, inner, rows)
 * x viewed as [outer, rows, inner]; out[o][i] = op over r of x[o][r][i]. inner == 1 reduces
 * contiguous rows (the last axes); outer == 1 reduces leading axes column by column. Sums
 * accumulate in double (as the cpu backend's JS loops do), then round once.
 */
static napi_value nk_reduce(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!nk_args(env, info, 6, argv)) return nk_throw(env, "reduce", "expects 6 arguments");
  int64_t op, outer, inner, rows;
  nk_array X, O;
  if (!nk_i64(env, argv[0], &op) || op < R_SUM || op > R_MIN) return nk_throw(env, "reduce", "bad op");
  if (!nk_f32(env, argv[1], &X) || !nk_f32(env, argv[2], &O)) return nk_throw(env, "reduce", "operands must be Float32Arrays");
  if (!nk_i64(env, argv[3], &outer) || !nk_i64(env, argv[4], &inner) || !nk_i64(env, argv[5], &rows) || outer < 0 || inner < 0 || rows < 1) {
    return nk_throw(env, "reduce", "bad sizes");
  }
  if ((uint64_t)(outer * rows * inner) > X.length || (uint64_t)(outer * inner) > O.length) return nk_throw(env, "reduce", "operand shorter than its shape");
  const reduce_ctx ctx = {(int)op, (const float*)X.data, (float*)O.data, outer, inner, rows, (inner + 255) / 256};
  const uint64_t total = (uint64_t)(outer * rows * inner);
  if (inner == 1) par_range(outer, total, reduce_rows, &ctx);
  else par_range(outer * ctx.per, total, reduce_columns, &ctx);
  return NULL;
}

typedef struct {
  const float* x;
  float* o;
  int64_t cols;
} rows_ctx;

/* q = exp(p - max) / sum, one row of cols (the native Softmax's operations, in its order). */
static inline void softmax_row(const float* p, float* q, int64_t cols) {
  float mx = p[0];
  for (int64_t j = 1; j < cols; j++) mx = p[j] > mx ? p[j] : mx;
  float s = 0.0f;
  for (int64_t j = 0; j < cols; j++) q[j] = p[j] - mx;
  vec_exp(q, q, cols);
  for (int64_t j = 0; j < cols; j++) s += q[j];
  for (int64_t j = 0; j < cols; j++) q[j] = q[j] / s;
}

static void softmax_rows(const void* p_, int64_t r0, int64_t r1) {
  const rows_ctx* c = (const rows_ctx*)p_;
  for (int64_t r = r0; r < r1; r++) softmax_row(c->x + r * c->cols, c->o + r * c->cols, c->cols);
}

/* softmax(x, out, rows, cols): out = exp(x - max) / sum over each row of cols. */
static napi_value nk_softmax(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!nk_args(env, info, 4, argv)) return nk_throw(env, "softmax", "expects 4 arguments");
  nk_array X, O;
  int64_t rows, cols;
  if (!nk_f32(env, argv[0], &X) || !nk_f32(env, argv[1], &O)) return nk_throw(env, "softmax", "operands must be Float32Arrays");
  if (!nk_i64(env, argv[2], &rows) || !nk_i64(env, argv[3], &cols) || rows < 0 || cols < 1) return nk_throw(env, "softmax", "bad sizes");
  if ((uint64_t)(rows * cols) > X.length || (uint64_t)(rows * cols) > O.length) return nk_throw(env, "softmax", "operand shorter than its shape");
  const rows_ctx ctx = {(const float*)X.data, (float*)O.data, cols};
  par_range(rows, (uint64_t)(rows * cols), softmax_rows, &ctx);
  return NULL;
}

/* ---------------------------------------------------------------- copies */

typedef struct {
  const void* x;
  void* o;
  int bpe, rank;
  const int64_t *oshape, *os;
} transpose_ctx;

static void transpose_rows(const void* p_, int64_t r0, int64_t r1) {
  const transpose_ctx* c = (const transpose_ctx*)p_;
  const int rank = c->rank;
  const int64_t inner = c->oshape[rank - 1], istride = c->os[rank - 1];
  for (int64_t r = r0; r < r1; r++) {
    int64_t rem = r, src = 0;
    for (int j = rank - 2; j >= 0; j--) {
      src += (rem % c->oshape[j]) * c->os[j];
      rem /= c->oshape[j];
    }
    if (c->bpe == 4) {
      const uint32_t* s = (const uint32_t*)c->x + src;
      uint32_t* d = (uint32_t*)c->o + r * inner;
      for (int64_t t = 0; t < inner; t++) d[t] = s[t * istride];
    } else {
      const uint8_t* s = (const uint8_t*)c->x + src;
      uint8_t* d = (uint8_t*)c->o + r * inner;
      for (int64_t t = 0; t < inner; t++) d[t] = s[t * istride];
    }
  }
}

/* transpose(x, out, shape[], perm[]): out dim j = x dim perm[j]; 1- or 4-byte elements. */
static napi_value nk_transpose(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!nk_args(env, info, 4, argv)) return nk_throw(env, "transposeArray", "expects 4 arguments");
  nk_array X, O;
  if (!nk_get_array(env, argv[0], &X) || !nk_get_array(env, argv[1], &O)) return nk_throw(env, "transposeArray", "x and out must be typed arrays");
  int bpe = nk_bpe(&X);
  if (bpe == 0 || nk_bpe(&O) != bpe) return nk_throw(env, "transposeArray", "x and out must hold 1- or 4-byte elements of the same size");
  int64_t shape[8], perm[8];
  uint32_t rank, prank;
  if (!nk_dims(env, argv[2], shape, &rank) || !nk_dims(env, argv[3], perm, &prank) || rank != prank || rank < 1) return nk_throw(env, "transposeArray", "bad shape or perm");
  int seen[8] = {0};
  uint64_t total = 1;
  for (uint32_t i = 0; i < rank; i++) {
    if (shape[i] < 0 || perm[i] < 0 || perm[i] >= rank || seen[perm[i]]++) return nk_throw(env, "transposeArray", "bad shape or perm");
    total *= (uint64_t)shape[i];
  }
  if (total > X.length || total > O.length) return nk_throw(env, "transposeArray", "operand shorter than its shape");
  if (total == 0) return NULL;
  int64_t xstride[8], oshape[8], os[8];
  xstride[rank - 1] = 1;
  for (int i = (int)rank - 2; i >= 0; i--) xstride[i] = xstride[i + 1] * shape[i + 1];
  for (uint32_t j = 0; j < rank; j++) {
    oshape[j] = shape[perm[j]];
    os[j] = xstride[perm[j]];
  }
  const transpose_ctx ctx = {X.data, O.data, bpe, (int)rank, oshape, os};
  par_range((int64_t)(total / (uint64_t)oshape[rank - 1]), total, transpose_rows, &ctx);
  return NULL;
}

/*
 * gather(x, idx, out, batch, outer, dim, slice) -> -1, or the position of the first index
 * outside [0, dim) (then nothing is written). x is [batch, outer, dim, slice], idx int32
 * [batch, nIdx], out [batch, outer, nIdx, slice].
 */
typedef struct {
  const char* x;
  const int32_t* idx;
  char* out;
  uint64_t rowBytes;
  int64_t outer, dim, nIdx;
} gather_ctx;

/* Output rows [k0, k1) of (pair p, index i), k = p·nIdx + i. */
static void gather_rows(const void* p_, int64_t k0, int64_t k1) {
  const gather_ctx* c = (const gather_ctx*)p_;
  for (int64_t k = k0; k < k1; k++) {
    const int64_t p = k / c->nIdx, i = k % c->nIdx;
    const int32_t* bi = c->idx + (p / (c->outer > 0 ? c->outer : 1)) * c->nIdx;
    memcpy(c->out + (uint64_t)k * c->rowBytes, c->x + ((uint64_t)p * (uint64_t)c->dim + (uint64_t)bi[i]) * c->rowBytes, c->rowBytes);
  }
}

static napi_value nk_gather(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!nk_args(env, info, 7, argv)) return nk_throw(env, "gatherArray", "expects 7 arguments");
  nk_array X, Ix, O;
  if (!nk_get_array(env, argv[0], &X) || !nk_get_array(env, argv[1], &Ix) || !nk_get_array(env, argv[2], &O)) return nk_throw(env, "gatherArray", "operands must be typed arrays");
  int bpe = nk_bpe(&X);
  if (bpe == 0 || nk_bpe(&O) != bpe || Ix.type != napi_int32_array) return nk_throw(env, "gatherArray", "bad element types");
  int64_t batch, outer, dim, slice;
  if (!nk_i64(env, argv[3], &batch) || !nk_i64(env, argv[4], &outer) || !nk_i64(env, argv[5], &dim) || !nk_i64(env, argv[6], &slice) || batch < 1 || outer < 0 || dim < 0 || slice < 0) {
    return nk_throw(env, "gatherArray", "bad sizes");
  }
  int64_t nIdx = (int64_t)Ix.length / batch;
  if ((uint64_t)(batch * nIdx) != Ix.length || (uint64_t)(batch * outer * dim * slice) > X.length || (uint64_t)(batch * outer * nIdx * slice) > O.length) {
    return nk_throw(env, "gatherArray", "operand shorter than its shape");
  }
  const int32_t* idx = (const int32_t*)Ix.data;
  napi_value result;
  for (int64_t j = 0; j < batch * nIdx; j++) {
    if (idx[j] < 0 || (int64_t)idx[j] >= dim) {
      NK_CHECK(napi_create_int64(env, j, &result));
      return result;
    }
  }
  const gather_ctx ctx = {(const char*)X.data, idx, (char*)O.data, (uint64_t)slice * (uint64_t)bpe, outer, dim, nIdx};
  const int64_t copies = batch * outer * nIdx;
  par_range(copies, (uint64_t)copies * ctx.rowBytes / 4, gather_rows, &ctx);
  NK_CHECK(napi_create_int64(env, -1, &result));
  return result;
}

/* slice(x, out, shape[], begin[], size[]): out = x[begin:begin+size] per dim (resolved). */
static napi_value nk_slice(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!nk_args(env, info, 5, argv)) return nk_throw(env, "sliceArray", "expects 5 arguments");
  nk_array X, O;
  if (!nk_get_array(env, argv[0], &X) || !nk_get_array(env, argv[1], &O)) return nk_throw(env, "sliceArray", "operands must be typed arrays");
  int bpe = nk_bpe(&X);
  if (bpe == 0 || nk_bpe(&O) != bpe) return nk_throw(env, "sliceArray", "bad element types");
  int64_t shape[8], begin[8], size[8];
  uint32_t r1, r2, r3;
  if (!nk_dims(env, argv[2], shape, &r1) || !nk_dims(env, argv[3], begin, &r2) || !nk_dims(env, argv[4], size, &r3) || r1 != r2 || r1 != r3 || r1 < 1) {
    return nk_throw(env, "sliceArray", "shape, begin and size must have the same rank 1-8");
  }
  int rank = (int)r1;
  uint64_t xTotal = 1, outTotal = 1;
  for (int i = 0; i < rank; i++) {
    if (shape[i] < 0 || begin[i] < 0 || size[i] < 0 || begin[i] > shape[i] || size[i] > shape[i] - begin[i]) return nk_throw(env, "sliceArray", "slice outside the input");
    xTotal *= (uint64_t)shape[i];
    outTotal *= (uint64_t)size[i];
  }
  if (xTotal > X.length || outTotal > O.length) return nk_throw(env, "sliceArray", "operand shorter than its shape");
  if (outTotal == 0) return NULL;
  int k = rank - 1;
  uint64_t run = (uint64_t)size[k];
  while (k > 0 && size[k] == shape[k]) {
    k--;
    run *= (uint64_t)size[k];
  }
  int64_t xstride[8];
  xstride[rank - 1] = 1;
  for (int i = rank - 2; i >= 0; i--) xstride[i] = xstride[i + 1] * shape[i + 1];
  int64_t start = 0;
  for (int i = 0; i < rank; i++) start += begin[i] * xstride[i];
  const char* x = (const char*)X.data;
  char* out = (char*)O.data;
  uint64_t runBytes = run * (uint64_t)bpe;
  int64_t runs = (int64_t)(outTotal / run);
#pragma omp parallel for schedule(static) num_threads(nk_threads) if (outTotal > PAR_MIN)
  for (int64_t r = 0; r < runs; r++) {
    int64_t rem = r, src = start;
    for (int j = k - 1; j >= 0; j--) {
      src += (rem % size[j]) * xstride[j];
      rem /= size[j];
    }
    memcpy(out + (uint64_t)r * runBytes, x + (uint64_t)src * (uint64_t)bpe, runBytes);
  }
  return NULL;
}

/*
 * pad(x, out, shape[], before[], outShape[], c): out (outShape) filled with c, x (shape) copied
 * in at offset `before` per dim (PadV2 with constant padding; the gradient of Slice).
 */
static napi_value nk_pad(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!nk_args(env, info, 6, argv)) return nk_throw(env, "padArray", "expects 6 arguments");
  nk_array X, O;
  if (!nk_f32(env, argv[0], &X) || !nk_f32(env, argv[1], &O)) return nk_throw(env, "padArray", "x and out must be Float32Arrays");
  int64_t shape[8], before[8], oshape[8];
  uint32_t r1, r2, r3;
  if (!nk_dims(env, argv[2], shape, &r1) || !nk_dims(env, argv[3], before, &r2) || !nk_dims(env, argv[4], oshape, &r3) || r1 != r2 || r1 != r3 || r1 < 1) {
    return nk_throw(env, "padArray", "shape, before and outShape must have the same rank 1-8");
  }
  double cd;
  NK_CHECK(napi_get_value_double(env, argv[5], &cd));
  int rank = (int)r1;
  uint64_t xTotal = 1, outTotal = 1;
  for (int i = 0; i < rank; i++) {
    if (shape[i] < 0 || before[i] < 0 || oshape[i] < shape[i] + before[i]) return nk_throw(env, "padArray", "x does not fit in out");
    xTotal *= (uint64_t)shape[i];
    outTotal *= (uint64_t)oshape[i];
  }
  if (xTotal > X.length || outTotal > O.length) return nk_throw(env, "padArray", "operand shorter than its shape");
  float* o = (float*)O.data;
  const float* x = (const float*)X.data;
  const float c = (float)cd;
  const int64_t N = (int64_t)outTotal;
  if (c == 0.0f && !signbit(c)) memset(o, 0, sizeof(float) * outTotal);
  else for (int64_t i = 0; i < N; i++) o[i] = c;
  if (xTotal == 0) return NULL;
  int64_t ostride[8];
  ostride[rank - 1] = 1;
  for (int i = rank - 2; i >= 0; i--) ostride[i] = ostride[i + 1] * oshape[i + 1];
  int64_t start = 0;
  for (int i = 0; i < rank; i++) start += before[i] * ostride[i];
  int64_t inner = shape[rank - 1];
  int64_t rows = (int64_t)(xTotal / (uint64_t)inner);
#pragma omp parallel for schedule(static) num_threads(nk_threads) if (xTotal > PAR_MIN)
  for (int64_t r = 0; r < rows; r++) {
    int64_t rem = r, dst = start;
    for (int j = rank - 2; j >= 0; j--) {
      dst += (rem % shape[j]) * ostride[j];
      rem /= shape[j];
    }
    memcpy(o + dst, x + r * inner, sizeof(float) * (size_t)inner);
  }
  return NULL;
}

/* concat(inputs[], out, outer, widths[]): input i is [outer, widths[i]]; out [outer, sum]. */
static napi_value nk_concat(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!nk_args(env, info, 4, argv)) return nk_throw(env, "concatArrays", "expects 4 arguments");
  nk_array O;
  if (!nk_get_array(env, argv[1], &O) || nk_bpe(&O) == 0) return nk_throw(env, "concatArrays", "out must be a typed array");
  int bpe = nk_bpe(&O);
  uint32_t count;
  NK_CHECK(napi_get_array_length(env, argv[0], &count));
  int64_t outer;
  if (!nk_i64(env, argv[2], &outer) || outer < 0 || count < 1 || count > 4096) return nk_throw(env, "concatArrays", "bad sizes");
  uint64_t total = 0;
  /* Check every input before writing anything. */
  for (uint32_t i = 0; i < count; i++) {
    napi_value e, w;
    nk_array In;
    int64_t width;
    NK_CHECK(napi_get_element(env, argv[0], i, &e));
    NK_CHECK(napi_get_element(env, argv[3], i, &w));
    if (!nk_get_array(env, e, &In) || nk_bpe(&In) != bpe || !nk_i64(env, w, &width) || width < 0) return nk_throw(env, "concatArrays", "inputs must be typed arrays like out");
    if ((uint64_t)(outer * width) > In.length) return nk_throw(env, "concatArrays", "input shorter than its shape");
    total += (uint64_t)width;
  }
  if ((uint64_t)outer * total > O.length) return nk_throw(env, "concatArrays", "out shorter than its shape");
  uint64_t col = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value e, w;
    nk_array In;
    int64_t width;
    NK_CHECK(napi_get_element(env, argv[0], i, &e));
    NK_CHECK(napi_get_element(env, argv[3], i, &w));
    nk_get_array(env, e, &In);
    nk_i64(env, w, &width);
    const char* s = (const char*)In.data;
    char* d = (char*)O.data;
    uint64_t wb = (uint64_t)width * (uint64_t)bpe, tb = total * (uint64_t)bpe, cb = col * (uint64_t)bpe;
#pragma omp parallel for schedule(static) num_threads(nk_threads) if ((uint64_t)outer * (uint64_t)width > PAR_MIN)
    for (int64_t r = 0; r < outer; r++) memcpy(d + (uint64_t)r * tb + cb, s + (uint64_t)r * wb, wb);
    col += (uint64_t)width;
  }
  return NULL;
}

/*
 * segmentSum(x, ids, out, numSegments, inner): out[s][:] = sum of x[r][:] over rows r with
 * ids[r] == s (rows with ids outside [0, numSegments) are dropped, as tfjs does); float32
 * accumulation in row order. Threads split the columns, so each output element is summed in
 * the same order whatever the thread count.
 */
typedef struct {
  const float* x;
  const int32_t* ids;
  float* o;
  int64_t rows, segs, inner;
} segment_ctx;

static void segment_columns(const void* p_, int64_t c0, int64_t c1) {
  const segment_ctx* c = (const segment_ctx*)p_;
  for (int64_t r = 0; r < c->rows; r++) {
    const int64_t s = c->ids[r];
    if (s < 0 || s >= c->segs) continue;
    const float* xr = c->x + r * c->inner;
    float* orow = c->o + s * c->inner;
    for (int64_t j = c0; j < c1; j++) orow[j] += xr[j];
  }
}

static napi_value nk_segment_sum(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!nk_args(env, info, 5, argv)) return nk_throw(env, "segmentSum", "expects 5 arguments");
  nk_array X, Ix, O;
  if (!nk_f32(env, argv[0], &X) || !nk_get_array(env, argv[1], &Ix) || Ix.type != napi_int32_array || !nk_f32(env, argv[2], &O)) return nk_throw(env, "segmentSum", "x, out Float32Array; ids Int32Array");
  int64_t segs, inner;
  if (!nk_i64(env, argv[3], &segs) || !nk_i64(env, argv[4], &inner) || segs < 0 || inner < 0) return nk_throw(env, "segmentSum", "bad sizes");
  int64_t rows = (int64_t)Ix.length;
  if ((uint64_t)(rows * inner) > X.length || (uint64_t)(segs * inner) > O.length) return nk_throw(env, "segmentSum", "operand shorter than its shape");
  const float* x = (const float*)X.data;
  const int32_t* ids = (const int32_t*)Ix.data;
  float* o = (float*)O.data;
  memset(o, 0, sizeof(float) * (size_t)(segs * inner));
  /* column blocks: every output element sums its rows in row order, whoever runs the block */
  const segment_ctx ctx = {x, ids, o, rows, segs, inner};
  par_range(inner, inner < 64 ? 0 : (uint64_t)(rows * inner), segment_columns, &ctx);
  return NULL;
}

/* ---------------------------------------------------------------- fused activations */

/*
 * gelu(x, out, n): out = 0.5·x·(1 + erf(x·√½)), the float32 operations of the model's
 * composition (src/model/nn.ts) in the same order, so the result is the same to the bit: one
 * pass instead of five.
 */
typedef struct {
  const float* dy;
  const float* x;
  float* o;
  int64_t n;
} gelu_ctx;

static void gelu_blocks(const void* p_, int64_t b0, int64_t b1) {
  const gelu_ctx* c = (const gelu_ctx*)p_;
  const float* x = c->x;
  float* o = c->o;
  const float r = 0.70710678118654752f;
  for (int64_t bk = b0; bk < b1; bk++) {
    const int64_t i0 = bk * VBLOCK, len = c->n - i0 < VBLOCK ? c->n - i0 : VBLOCK;
    float e[VBLOCK];
    for (int64_t j = 0; j < len; j++) e[j] = x[i0 + j] * r;
    vec_erf(e, e, len);
    for (int64_t j = 0; j < len; j++) {
      const float a = 0.5f * x[i0 + j];
      o[i0 + j] = a * (1.0f + e[j]);
    }
  }
}

static napi_value nk_gelu(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  nk_array X, O;
  int64_t n;
  if (!nk_args(env, info, 3, argv) || !nk_f32(env, argv[0], &X) || !nk_f32(env, argv[1], &O) || !nk_i64(env, argv[2], &n)) {
    return nk_throw(env, "gelu", "expects (x: Float32Array, out: Float32Array, n)");
  }
  if (n < 0 || (uint64_t)n > X.length || (uint64_t)n > O.length) return nk_throw(env, "gelu", "bad size");
  const gelu_ctx ctx = {NULL, (const float*)X.data, (float*)O.data, n};
  par_range((n + VBLOCK - 1) / VBLOCK, (uint64_t)n, gelu_blocks, &ctx);
  return NULL;
}

/*
 * geluGrad(dy, x, out, n): the gradient of gelu at x, as TensorFlow.js's autodiff computes it
 * through the composition (Multiply, Erf and Add gradients), operation for operation:
 * dx = (dy·b)·½ + ((dy·a)·(exp(-(s·s))·2/√π))·√½ with a = ½x, s = x·√½, b = 1 + erf(s).
 */
static void gelu_grad_blocks(const void* p_, int64_t b0, int64_t b1);

static napi_value nk_gelu_grad(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  nk_array DY, X, O;
  int64_t n;
  if (!nk_args(env, info, 4, argv) || !nk_f32(env, argv[0], &DY) || !nk_f32(env, argv[1], &X) || !nk_f32(env, argv[2], &O) || !nk_i64(env, argv[3], &n)) {
    return nk_throw(env, "geluGrad", "expects (dy, x, out: Float32Array, n)");
  }
  if (n < 0 || (uint64_t)n > DY.length || (uint64_t)n > X.length || (uint64_t)n > O.length) return nk_throw(env, "geluGrad", "bad size");
  const gelu_ctx ctx = {(const float*)DY.data, (const float*)X.data, (float*)O.data, n};
  par_range((n + VBLOCK - 1) / VBLOCK, (uint64_t)n, gelu_grad_blocks, &ctx);
  return NULL;
}

static void gelu_grad_blocks(const void* p_, int64_t b0, int64_t b1) {
  const gelu_ctx* c = (const gelu_ctx*)p_;
  const float* dy = c->dy;
  const float* x = c->x;
  float* o = c->o;
  const int64_t n = c->n;
  const float r = 0.70710678118654752f;
  const float k = (float)1.1283791670955126; /* 2 / Math.sqrt(Math.PI) as a float32 scalar tensor */
  for (int64_t bk = b0; bk < b1; bk++) {
    const int64_t i0 = bk * VBLOCK, len = n - i0 < VBLOCK ? n - i0 : VBLOCK;
    float e[VBLOCK], q[VBLOCK];
    for (int64_t j = 0; j < len; j++) {
      const float s = x[i0 + j] * r;
      e[j] = s;
      q[j] = -(s * s);
    }
    vec_erf(e, e, len);
    vec_exp(q, q, len);
    for (int64_t j = 0; j < len; j++) {
      const float v = x[i0 + j], g = dy[i0 + j];
      const float a = 0.5f * v;
      const float b = 1.0f + e[j];
      const float dx1 = (g * b) * 0.5f;
      const float ds = (g * a) * (q[j] * k);
      o[i0 + j] = ds * r + dx1;
    }
  }
}

/*
 * tf.dropout's mask for n values from seedrandom's Alea generator in state (c, s0, s1, s2): for
 * each uniform float u, m = floor(u + keepProb); writes the multiplier m / keepProb to
 * `multiplier` (dropoutMultiplier) or the keep flag m != 0 to `keep` (the fused kernels' bytes),
 * whichever is not NULL.
 */
static void alea_dropout(size_t n, double c, double s0, double s1, double s2, float keepProb, float* multiplier, uint8_t* keep) {
  /*
   * Alea is a multiply-with-carry generator in doubles: every s is a multiple of 2^-32 and
   * 2091639·s·2^32 + c stays below 2^53, so the same stream runs exactly in integers, x = s·2^32:
   * t = 2091639·x + c, c = t >> 32, x = t mod 2^32 (a quarter of the double loop's latency).
   */
  const double two32 = 4294967296.0;
  const double x0d = s0 * two32, x1d = s1 * two32, x2d = s2 * two32;
  if (c == 1.0 && x0d == floor(x0d) && x1d == floor(x1d) && x2d == floor(x2d) && x0d >= 0 && x1d >= 0 && x2d >= 0 && x0d < two32 && x1d < two32 && x2d < two32) {
    uint64_t x0 = (uint64_t)x0d, x1 = (uint64_t)x1d, x2 = (uint64_t)x2d, carry = 1;
    for (size_t i = 0; i < n; i++) {
      const uint64_t t = 2091639ull * x0 + carry;
      carry = t >> 32;
      x0 = x1;
      x1 = x2;
      x2 = t & 0xffffffffull;
      const float m = floorf((float)((double)x2 * 2.3283064365386963e-10) + keepProb);
      if (multiplier != NULL) multiplier[i] = m / keepProb;
      else keep[i] = m != 0.0f;
    }
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const double t = 2091639.0 * s0 + c * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    c = (double)(int32_t)t; /* t | 0 (t is in [0, 2091640)) */
    s2 = t - c;
    const float m = floorf((float)s2 + keepProb);
    if (multiplier != NULL) multiplier[i] = m / keepProb;
    else keep[i] = m != 0.0f;
  }
}

/*
 * dropoutMultiplier(out, c, s0, s1, s2, keepProb): out = floor(u + keep) / keep for u the
 * uniform [0, 1) floats TensorFlow.js's randomUniform draws from the seeded Alea generator whose
 * state (c, s0, s1, s2) the caller computed from the seed: the same mask as tf.dropout, made in
 * one pass instead of a JS loop and three more passes (Add, Floor, RealDiv).
 */
static napi_value nk_dropout_multiplier(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  nk_array O;
  double st[5];
  if (!nk_args(env, info, 6, argv) || !nk_f32(env, argv[0], &O)) return nk_throw(env, "dropoutMultiplier", "expects (out: Float32Array, c, s0, s1, s2, keepProb)");
  for (int i = 0; i < 5; i++) {
    if (napi_get_value_double(env, argv[1 + i], &st[i]) != napi_ok) return nk_throw(env, "dropoutMultiplier", "state and keepProb must be numbers");
  }
  alea_dropout(O.length, st[0], st[1], st[2], st[3], (float)st[4], (float*)O.data, NULL);
  return NULL;
}

/*
 * layerNorm(x, gamma, beta, out, rows, cols, eps): out = (x - μ)·rsqrt(σ² + eps)·γ + β over each
 * row of cols, the float32 operations of the model's composition (src/model/nn.ts) in its order
 * (means summed in double and rounded once, as the native Mean does), so the result is the
 * composition's to the bit: one pass over x instead of nine kernels.
 */
static inline void ln_row_stats(const float* p, int64_t cols, float eps, float* mean, float* rstd) {
  double s = 0;
  for (int64_t j = 0; j < cols; j++) s += p[j];
  const float m = (float)(s / (double)cols);
  double q = 0;
  for (int64_t j = 0; j < cols; j++) {
    const float c = p[j] - m;
    q += (double)(c * c);
  }
  const float var = (float)(q / (double)cols);
  *mean = m;
  *rstd = 1.0f / sqrtf(var + eps);
}

typedef struct {
  const float* dy;
  const float* x;
  const float* g;
  const float* b;
  float* o;
  double* part; /* layerNormGrad: per chunk, Σ dy·x̂ then Σ dy (2·cols doubles) */
  int64_t rows, cols, chunks;
  float eps;
} ln_ctx;

static void layer_norm_rows(const void* p_, int64_t r0, int64_t r1) {
  const ln_ctx* c = (const ln_ctx*)p_;
  const int64_t cols = c->cols;
  for (int64_t r = r0; r < r1; r++) {
    const float* p = c->x + r * cols;
    float* q = c->o + r * cols;
    float m, rs;
    ln_row_stats(p, cols, c->eps, &m, &rs);
    for (int64_t j = 0; j < cols; j++) q[j] = ((p[j] - m) * rs) * c->g[j] + c->b[j];
  }
}

static napi_value nk_layer_norm(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  nk_array X, G, B, O;
  int64_t rows, cols;
  double epsD;
  if (!nk_args(env, info, 7, argv) || !nk_f32(env, argv[0], &X) || !nk_f32(env, argv[1], &G) || !nk_f32(env, argv[2], &B) || !nk_f32(env, argv[3], &O) ||
      !nk_i64(env, argv[4], &rows) || !nk_i64(env, argv[5], &cols) || napi_get_value_double(env, argv[6], &epsD) != napi_ok) {
    return nk_throw(env, "layerNorm", "expects (x, gamma, beta, out: Float32Array, rows, cols, eps)");
  }
  if (rows < 0 || cols < 1 || (uint64_t)(rows * cols) > X.length || (uint64_t)(rows * cols) > O.length || (uint64_t)cols > G.length || (uint64_t)cols > B.length) {
    return nk_throw(env, "layerNorm", "operand shorter than its shape");
  }
  const ln_ctx ctx = {.x = (const float*)X.data, .g = (const float*)G.data, .b = (const float*)B.data, .o = (float*)O.data, .cols = cols, .eps = (float)epsD};
  par_range(rows, (uint64_t)(rows * cols), layer_norm_rows, &ctx);
  return NULL;
}

static void layer_norm_grad_chunk(const void* p_, int64_t t) {
  const ln_ctx* c = (const ln_ctx*)p_;
  const int64_t cols = c->cols, rows = c->rows, T = c->chunks;
  double* sg = c->part + (size_t)t * 2 * (size_t)cols; /* Σ dy·x̂ */
  double* sb = sg + cols;                               /* Σ dy */
  const int64_t r0 = rows * t / T, r1 = rows * (t + 1) / T;
  for (int64_t r = r0; r < r1; r++) {
    const float* p = c->x + r * cols;
    const float* d = c->dy + r * cols;
    const float* g = c->g;
    float* q = c->o + r * cols;
    float m, rs;
    ln_row_stats(p, cols, c->eps, &m, &rs);
    double s1 = 0, s2 = 0;
    for (int64_t j = 0; j < cols; j++) {
      const float xh = (p[j] - m) * rs;
      const float dxh = d[j] * g[j];
      s1 += dxh;
      s2 += (double)dxh * xh;
      sg[j] += (double)d[j] * xh;
      sb[j] += d[j];
    }
    const float m1 = (float)(s1 / (double)cols), m2 = (float)(s2 / (double)cols);
    for (int64_t j = 0; j < cols; j++) {
      const float xh = (p[j] - m) * rs;
      q[j] = rs * (d[j] * g[j] - m1 - xh * m2);
    }
  }
}

/*
 * layerNormGrad(dy, x, gamma, dx, dgamma, dbeta, rows, cols, eps): the gradients of layerNorm,
 * x̂ = (x - μ)·r: dβ = Σrows dy, dγ = Σrows dy·x̂, dx = r·(dy·γ - mean(dy·γ) - x̂·mean(dy·γ·x̂)).
 * Column sums accumulate in double, per chunk of rows in row order, then over the chunks in order
 * (one chunk per thread: the sums depend on the thread count, as before the pool).
 */
static napi_value nk_layer_norm_grad(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  nk_array DY, X, G, DX, DG, DB;
  int64_t rows, cols;
  double epsD;
  if (!nk_args(env, info, 9, argv) || !nk_f32(env, argv[0], &DY) || !nk_f32(env, argv[1], &X) || !nk_f32(env, argv[2], &G) || !nk_f32(env, argv[3], &DX) ||
      !nk_f32(env, argv[4], &DG) || !nk_f32(env, argv[5], &DB) || !nk_i64(env, argv[6], &rows) || !nk_i64(env, argv[7], &cols) ||
      napi_get_value_double(env, argv[8], &epsD) != napi_ok) {
    return nk_throw(env, "layerNormGrad", "expects (dy, x, gamma, dx, dgamma, dbeta: Float32Array, rows, cols, eps)");
  }
  const uint64_t n = (uint64_t)(rows * cols);
  if (rows < 0 || cols < 1 || n > DY.length || n > X.length || n > DX.length || (uint64_t)cols > G.length || (uint64_t)cols > DG.length || (uint64_t)cols > DB.length) {
    return nk_throw(env, "layerNormGrad", "operand shorter than its shape");
  }
  const float* dy = (const float*)DY.data;
  const float* x = (const float*)X.data;
  const float* g = (const float*)G.data;
  float* dx = (float*)DX.data;
  const float eps = (float)epsD;
  int T = nk_threads;
  if (rows * cols <= PAR_MIN || rows < T) T = 1;
  double* part = (double*)calloc((size_t)T * 2 * (size_t)cols, sizeof(double));
  if (part == NULL) return nk_throw(env, "layerNormGrad", "out of memory");
  /* T chunks of rows (chunk t: rows [rows·t/T, rows·(t+1)/T)), each with its own column sums */
  const ln_ctx ctx = {.dy = dy, .x = x, .g = g, .o = dx, .part = part, .rows = rows, .cols = cols, .chunks = T, .eps = eps};
  if (T == 1) layer_norm_grad_chunk(&ctx, 0);
  else pool_run(layer_norm_grad_chunk, &ctx, T, T);
  float* dg = (float*)DG.data;
  float* db = (float*)DB.data;
  for (int64_t j = 0; j < cols; j++) {
    double a = 0, c = 0;
    for (int t = 0; t < T; t++) {
      a += part[(size_t)t * 2 * (size_t)cols + j];
      c += part[(size_t)t * 2 * (size_t)cols + cols + j];
    }
    dg[j] = (float)a;
    db[j] = (float)c;
  }
  free(part);
  return NULL;
}

/* ---------------------------------------------------------------- attention probabilities */

static int nk_optional_f32(napi_env env, napi_value v, nk_array* out, int* present) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  *present = t != napi_null && t != napi_undefined;
  if (!*present) {
    out->data = NULL;
    out->length = 0;
    return 1;
  }
  return nk_f32(env, v, out);
}

static int nk_optional_u8(napi_env env, napi_value v, nk_array* out, int* present) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  *present = t != napi_null && t != napi_undefined;
  if (!*present) {
    out->data = NULL;
    out->length = 0;
    return 1;
  }
  return nk_get_array(env, v, out) && out->type == napi_uint8_array;
}

/*
 * attentionProbs(c2c, c2p|null, p2c|null, mask, out, y, keep|null, X, N, maskRows, c, s0, s1, s2, keepProb)
 * DeBERTa's attention probabilities in one pass per row, for X = heads·batch score blocks [N, N]:
 * s[x,i,j] = ((c2c[x,i,j] + c2p[x,i,j-i+N-1]) + p2c[x,j,i-j+N-1]) + mask[x % maskRows, j]
 * (c2p and p2c [X, N, 2N-1] before disentangled-attention.ts's skew; p2c's is also transposed),
 * y = softmax(s) over j as the native Softmax computes it, and with keep: out = y·(keep/keepProb)
 * for tf.dropout's mask from the Alea state (keep gets the flags); without: out = y (y unused).
 * The composition's float32 operations in its order, so the results equal it to the bit. The
 * mask's sequential stream runs as one chunk while other threads compute the softmax rows.
 */
typedef struct {
  const float *c2c, *c2p, *p2c, *mask;
  float *out, *y;
  uint8_t* keep;
  const double* st; /* the Alea state c, s0, s1, s2 */
  int64_t X, N, maskRows, rowChunks;
  float keepProb, scale;
} probs_ctx;

/* Chunk 0 with dropout: the keep flags; else a block of rows of y = softmax(scores). */
static void attention_probs_chunk(const void* p_, int64_t chunk) {
  const probs_ctx* c = (const probs_ctx*)p_;
  const int64_t N = c->N, W = 2 * N - 1, rows = c->X * N;
  if (c->keep != NULL) {
    if (chunk == 0) {
      alea_dropout((size_t)(rows * N), c->st[0], c->st[1], c->st[2], c->st[3], c->keepProb, NULL, c->keep);
      return;
    }
    chunk--;
  }
  const int64_t r0 = rows * chunk / c->rowChunks, r1 = rows * (chunk + 1) / c->rowChunks;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t x = r / N, i = r % N;
    const float* a = c->c2c + r * N;
    const float* mk = c->mask + (x % c->maskRows) * N;
    float* q = c->y + r * N;
    for (int64_t j = 0; j < N; j++) {
      float s = a[j];
      if (c->c2p != NULL) s = s + c->c2p[r * W + (j - i + N - 1)];
      if (c->p2c != NULL) s = s + c->p2c[(x * N + j) * W + (i - j + N - 1)];
      q[j] = s + mk[j];
    }
    float mx = q[0];
    for (int64_t j = 1; j < N; j++) mx = q[j] > mx ? q[j] : mx;
    for (int64_t j = 0; j < N; j++) q[j] = q[j] - mx;
    vec_exp(q, q, N);
    float sum = 0.0f;
    for (int64_t j = 0; j < N; j++) sum += q[j];
    for (int64_t j = 0; j < N; j++) q[j] = q[j] / sum;
  }
}

/* out = y·(keep/keepProb) over rows [r0, r1). */
static void attention_probs_dropout_rows(const void* p_, int64_t r0, int64_t r1) {
  const probs_ctx* c = (const probs_ctx*)p_;
  const int64_t N = c->N;
  for (int64_t r = r0; r < r1; r++) {
    const float* q = c->y + r * N;
    const uint8_t* k = c->keep + r * N;
    float* o = c->out + r * N;
    for (int64_t j = 0; j < N; j++) o[j] = q[j] * (k[j] ? c->scale : 0.0f);
  }
}

static napi_value nk_attention_probs(napi_env env, napi_callback_info info) {
  napi_value argv[15];
  if (!nk_args(env, info, 15, argv)) return nk_throw(env, "attentionProbs", "expects 15 arguments");
  nk_array C, P, Q, M, O, Y, K;
  int hasP, hasQ, hasK, hasY;
  if (!nk_f32(env, argv[0], &C) || !nk_optional_f32(env, argv[1], &P, &hasP) || !nk_optional_f32(env, argv[2], &Q, &hasQ) || !nk_f32(env, argv[3], &M) ||
      !nk_f32(env, argv[4], &O) || !nk_optional_f32(env, argv[5], &Y, &hasY) || !nk_optional_u8(env, argv[6], &K, &hasK)) {
    return nk_throw(env, "attentionProbs", "c2c, mask, out: Float32Array; c2p, p2c, y: Float32Array or null; keep: Uint8Array or null");
  }
  int64_t X, N, maskRows;
  double st[5];
  if (!nk_i64(env, argv[7], &X) || !nk_i64(env, argv[8], &N) || !nk_i64(env, argv[9], &maskRows)) return nk_throw(env, "attentionProbs", "sizes must be numbers");
  for (int i = 0; i < 5; i++) {
    if (napi_get_value_double(env, argv[10 + i], &st[i]) != napi_ok) return nk_throw(env, "attentionProbs", "state and keepProb must be numbers");
  }
  if (X < 0 || N < 1 || maskRows < 1) return nk_throw(env, "attentionProbs", "bad sizes");
  const uint64_t n = (uint64_t)(X * N * N), w = (uint64_t)(X * N * (2 * N - 1));
  if (n > C.length || n > O.length || (hasP && w > P.length) || (hasQ && w > Q.length) || (uint64_t)(maskRows * N) > M.length || (hasK && (!hasY || n > Y.length || n > K.length))) {
    return nk_throw(env, "attentionProbs", "operand shorter than its shape");
  }
  if (X % maskRows != 0) return nk_throw(env, "attentionProbs", "X must be a multiple of the mask's rows");
  const float* c2c = (const float*)C.data;
  const float* c2p = hasP ? (const float*)P.data : NULL;
  const float* p2c = hasQ ? (const float*)Q.data : NULL;
  const float* mask = (const float*)M.data;
  float* out = (float*)O.data;
  float* y = hasK ? (float*)Y.data : out;
  uint8_t* keep = hasK ? (uint8_t*)K.data : NULL;
  const float keepProb = (float)st[4]; /* the multiplier floor(u + keep) / keep is 1 / keep for floor = 1 */
  const int64_t rows = X * N;
  const probs_ctx ctx = {.c2c = c2c, .c2p = c2p, .p2c = p2c, .mask = mask, .out = out, .y = y, .keep = keep, .st = st, .X = X, .N = N, .maskRows = maskRows,
                         .rowChunks = nk_threads <= 1 || (int64_t)n <= PAR_MIN ? 1 : 4 * (int64_t)nk_threads, .keepProb = keepProb, .scale = 1.0f / keepProb};
  /* with dropout, chunk 0 draws the mask (a sequential stream) while the others compute the rows */
  const int64_t first = keep != NULL ? 1 : 0;
  if (first + ctx.rowChunks == 1) attention_probs_chunk(&ctx, 0);
  else pool_run(attention_probs_chunk, &ctx, first + ctx.rowChunks, nk_threads);
  if (keep != NULL) par_range(rows, n, attention_probs_dropout_rows, &ctx);
  return NULL;
}

/*
 * attentionProbsGrad(dy, y, keep|null, keepProb, ds, dc2p|null, dp2c|null, X, N): the gradient of
 * attentionProbs as autodiff through the composition computes it: g = dy·(keep/keepProb)
 * (Multiply's), p = g·y, ds = p - Σj(p)·y (Softmax's; the sum in double, rounded once, as the
 * native Sum), and the skews' gradients (Slice's PadV2: ds in its band, zeros elsewhere).
 */
typedef struct {
  const float* dy;
  const float* y;
  const uint8_t* keep;
  float *ds, *dc2p, *dp2c;
  int64_t N;
  float scale;
} probs_grad_ctx;

/* Score blocks [x0, x1). */
static void attention_probs_grad_blocks(const void* p_, int64_t x0, int64_t x1) {
  const probs_grad_ctx* c = (const probs_grad_ctx*)p_;
  const int64_t N = c->N, W = 2 * N - 1;
  const float* dy = c->dy;
  const float* y = c->y;
  const uint8_t* keep = c->keep;
  float* ds = c->ds;
  float* dc2p = c->dc2p;
  float* dp2c = c->dp2c;
  const float scale = c->scale;
  for (int64_t x = x0; x < x1; x++) {
    if (dc2p != NULL) memset(dc2p + x * N * W, 0, sizeof(float) * (size_t)(N * W));
    if (dp2c != NULL) memset(dp2c + x * N * W, 0, sizeof(float) * (size_t)(N * W));
    for (int64_t i = 0; i < N; i++) {
      const int64_t r = x * N + i;
      const float* d = dy + r * N;
      const float* q = y + r * N;
      float* o = ds + r * N;
      double s = 0;
      for (int64_t j = 0; j < N; j++) {
        const float g = keep != NULL ? d[j] * (keep[r * N + j] ? scale : 0.0f) : d[j];
        const float p = g * q[j];
        o[j] = p;
        s += p;
      }
      const float sf = (float)s;
      for (int64_t j = 0; j < N; j++) o[j] = o[j] - sf * q[j];
      if (dc2p != NULL) memcpy(dc2p + r * W + (N - 1 - i), o, sizeof(float) * (size_t)N);
      if (dp2c != NULL) {
        for (int64_t j = 0; j < N; j++) dp2c[(x * N + j) * W + (i - j + N - 1)] = o[j];
      }
    }
  }
}

static napi_value nk_attention_probs_grad(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!nk_args(env, info, 9, argv)) return nk_throw(env, "attentionProbsGrad", "expects 9 arguments");
  nk_array DY, Y, K, DS, DP, DQ;
  int hasK, hasP, hasQ;
  double keepD;
  int64_t X, N;
  if (!nk_f32(env, argv[0], &DY) || !nk_f32(env, argv[1], &Y) || !nk_optional_u8(env, argv[2], &K, &hasK) || napi_get_value_double(env, argv[3], &keepD) != napi_ok ||
      !nk_f32(env, argv[4], &DS) || !nk_optional_f32(env, argv[5], &DP, &hasP) || !nk_optional_f32(env, argv[6], &DQ, &hasQ) || !nk_i64(env, argv[7], &X) ||
      !nk_i64(env, argv[8], &N)) {
    return nk_throw(env, "attentionProbsGrad", "expects (dy, y: Float32Array, keep: Uint8Array|null, keepProb, ds: Float32Array, dc2p, dp2c: Float32Array|null, X, N)");
  }
  if (X < 0 || N < 1) return nk_throw(env, "attentionProbsGrad", "bad sizes");
  const uint64_t n = (uint64_t)(X * N * N), w = (uint64_t)(X * N * (2 * N - 1));
  if (n > DY.length || n > Y.length || n > DS.length || (hasK && n > K.length) || (hasP && w > DP.length) || (hasQ && w > DQ.length)) {
    return nk_throw(env, "attentionProbsGrad", "operand shorter than its shape");
  }
  const float* dy = (const float*)DY.data;
  const float* y = (const float*)Y.data;
  const uint8_t* keep = hasK ? (const uint8_t*)K.data : NULL;
  float* ds = (float*)DS.data;
  float* dc2p = hasP ? (float*)DP.data : NULL;
  float* dp2c = hasQ ? (float*)DQ.data : NULL;
  const probs_grad_ctx ctx = {dy, y, keep, ds, dc2p, dp2c, N, 1.0f / (float)keepD};
  par_range(X, n, attention_probs_grad_blocks, &ctx);
  return NULL;
}

typedef struct {
  const float* x;
  const uint8_t* keep;
  float* o;
  float scale;
} mask_ctx;

/* o = x·(keep ? scale : 0) over [i0, i1). */
static void masked_scale(const void* p_, int64_t i0, int64_t i1) {
  const mask_ctx* c = (const mask_ctx*)p_;
  for (int64_t i = i0; i < i1; i++) c->o[i] = c->x[i] * (c->keep[i] ? c->scale : 0.0f);
}

/*
 * dropout(x, out, keep, c, s0, s1, s2, keepProb): tf.dropout(x, 1 - keepProb, seed) in one pass,
 * out = x·(floor(u + keepProb) / keepProb) for the Alea state of the seed (dropoutMultiplier's
 * stream), keep = the flags (bytes) its gradient needs, instead of a float multiplier, a
 * Multiply and both kept for the backward pass. Sequential: the stream's carry chain is the
 * critical path and the multiply fits in its gaps.
 */
static napi_value nk_dropout(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  nk_array X, O, K;
  int hasK;
  double st[5];
  if (!nk_args(env, info, 8, argv) || !nk_f32(env, argv[0], &X) || !nk_f32(env, argv[1], &O) || !nk_optional_u8(env, argv[2], &K, &hasK) || !hasK) {
    return nk_throw(env, "dropout", "expects (x, out: Float32Array, keep: Uint8Array, c, s0, s1, s2, keepProb)");
  }
  for (int i = 0; i < 5; i++) {
    if (napi_get_value_double(env, argv[3 + i], &st[i]) != napi_ok) return nk_throw(env, "dropout", "state and keepProb must be numbers");
  }
  const size_t n = X.length;
  if (O.length < n || K.length < n) return nk_throw(env, "dropout", "out and keep must be as long as x");
  const float* x = (const float*)X.data;
  float* o = (float*)O.data;
  uint8_t* keep = (uint8_t*)K.data;
  const float keepProb = (float)st[4];
  const float scale = 1.0f / keepProb;
  alea_dropout(n, st[0], st[1], st[2], st[3], keepProb, NULL, keep);
  const mask_ctx ctx = {x, keep, o, scale};
  par_range((int64_t)n, n, masked_scale, &ctx);
  return NULL;
}

/* dropoutGrad(dy, keep, out, keepProb): dy·(keep / keepProb), Multiply's gradient in dropout. */
static napi_value nk_dropout_grad(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  nk_array DY, K, O;
  int hasK;
  double keepD;
  if (!nk_args(env, info, 4, argv) || !nk_f32(env, argv[0], &DY) || !nk_optional_u8(env, argv[1], &K, &hasK) || !hasK || !nk_f32(env, argv[2], &O) ||
      napi_get_value_double(env, argv[3], &keepD) != napi_ok) {
    return nk_throw(env, "dropoutGrad", "expects (dy: Float32Array, keep: Uint8Array, out: Float32Array, keepProb)");
  }
  const size_t n = DY.length;
  if (K.length < n || O.length < n) return nk_throw(env, "dropoutGrad", "keep and out must be as long as dy");
  const float* dy = (const float*)DY.data;
  const uint8_t* keep = (const uint8_t*)K.data;
  float* o = (float*)O.data;
  const mask_ctx ctx = {dy, keep, o, 1.0f / (float)keepD};
  par_range((int64_t)n, n, masked_scale, &ctx);
  return NULL;
}

/* ---------------------------------------------------------------- MLM cross-entropy */

typedef struct {
  const float* x;
  const int32_t* labels;
  float* out; /* forward: one loss per row; gradient: [rows, cols] */
  int64_t cols;
  float g;    /* gradient: dy / rows */
} ce_ctx;

/*
 * Rows [r0, r1) of the forward: logSumExp(row) - row[label] with TensorFlow.js's logSumExp
 * operations on the native kernels: max (Max's NaN rule), exp(x - max) (vec_exp), their sum in
 * double rounded once (Sum), log (Log), max + log, minus the label's logit.
 */
static void ce_rows(const void* p_, int64_t r0, int64_t r1) {
  const ce_ctx* c = (const ce_ctx*)p_;
  const int64_t cols = c->cols;
  float* e = (float*)malloc(sizeof(float) * (size_t)cols);
  if (e == NULL) {
    for (int64_t r = r0; r < r1; r++) c->out[r] = NAN; /* the caller reports it */
    return;
  }
  for (int64_t r = r0; r < r1; r++) {
    const float* p = c->x + r * cols;
    float mx = p[0];
    for (int64_t j = 1; j < cols; j++) {
      const float v = p[j];
      if (v > mx || isnan(v)) mx = v;
    }
    for (int64_t j = 0; j < cols; j++) e[j] = p[j] - mx;
    vec_exp(e, e, cols);
    double s = 0;
    for (int64_t j = 0; j < cols; j++) s += e[j];
    const float lse = mx + logf((float)s);
    c->out[r] = lse - p[c->labels[r]];
  }
  free(e);
}

/* Rows [r0, r1) of the gradient: (softmax(row) - onehot(label))·g, softmax as the native Softmax. */
static void ce_grad_rows(const void* p_, int64_t r0, int64_t r1) {
  const ce_ctx* c = (const ce_ctx*)p_;
  const int64_t cols = c->cols;
  for (int64_t r = r0; r < r1; r++) {
    float* q = c->out + r * cols;
    softmax_row(c->x + r * cols, q, cols);
    const int64_t label = c->labels[r];
    for (int64_t j = 0; j < cols; j++) q[j] = (q[j] - (j == label ? 1.0f : 0.0f)) * c->g;
  }
}

/* The labels must index the columns: the index of the first bad one, or -1. */
static int64_t ce_bad_label(const int32_t* labels, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; r++) {
    if (labels[r] < 0 || (int64_t)labels[r] >= cols) return r;
  }
  return -1;
}

static int ce_args(napi_env env, napi_value* argv, nk_array* X, nk_array* L, int64_t* rows, int64_t* cols) {
  return nk_f32(env, argv[0], X) && nk_get_array(env, argv[1], L) && L->type == napi_int32_array && nk_i64(env, argv[2], rows) && nk_i64(env, argv[3], cols) &&
         *rows >= 1 && *cols >= 1 && (uint64_t)(*rows * *cols) <= X->length && (uint64_t)*rows <= L->length;
}

/*
 * mlmCrossEntropy(x, labels, rows, cols) -> the mean over rows of logSumExp(x[r]) - x[r, labels[r]]
 * (float32, returned as a number): what mlmLoss's composition (fused-ops.ts) computes, operation
 * for operation, the mean as the native Mean (double sum in row order, divided, rounded once).
 */
static napi_value nk_mlm_ce(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  nk_array X, L;
  int64_t rows, cols;
  if (!nk_args(env, info, 4, argv) || !ce_args(env, argv, &X, &L, &rows, &cols)) {
    return nk_throw(env, "mlmCrossEntropy", "expects (x: Float32Array [rows·cols], labels: Int32Array [rows], rows >= 1, cols >= 1)");
  }
  const int32_t* labels = (const int32_t*)L.data;
  const int64_t bad = ce_bad_label(labels, rows, cols);
  if (bad >= 0) {
    char msg[120];
    snprintf(msg, sizeof msg, "label %d of row %lld is outside [0, %lld)", (int)labels[bad], (long long)bad, (long long)cols);
    return nk_throw(env, "mlmCrossEntropy", msg);
  }
  float* loss = (float*)malloc(sizeof(float) * (size_t)rows);
  if (loss == NULL) return nk_throw(env, "mlmCrossEntropy", "out of memory");
  const ce_ctx ctx = {(const float*)X.data, labels, loss, cols, 0.0f};
  par_range(rows, (uint64_t)(rows * cols), ce_rows, &ctx);
  double s = 0;
  for (int64_t r = 0; r < rows; r++) s += loss[r];
  free(loss);
  napi_value out;
  NK_CHECK(napi_create_double(env, (double)(float)(s / (double)rows), &out));
  return out;
}

/* mlmCrossEntropyGrad(x, labels, rows, cols, dy, out): out = (softmax(x) - onehot(labels))·(dy / rows), as the composition's gradient. */
static napi_value nk_mlm_ce_grad(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  nk_array X, L, O;
  int64_t rows, cols;
  double dy;
  if (!nk_args(env, info, 6, argv) || !ce_args(env, argv, &X, &L, &rows, &cols) || napi_get_value_double(env, argv[4], &dy) != napi_ok || !nk_f32(env, argv[5], &O) ||
      (uint64_t)(rows * cols) > O.length) {
    return nk_throw(env, "mlmCrossEntropyGrad", "expects (x: Float32Array [rows·cols], labels: Int32Array [rows], rows, cols, dy, out: Float32Array [rows·cols])");
  }
  const int32_t* labels = (const int32_t*)L.data;
  if (ce_bad_label(labels, rows, cols) >= 0) return nk_throw(env, "mlmCrossEntropyGrad", "a label is outside [0, cols)");
  /* tf.div(dy, M): float32 division */
  const ce_ctx ctx = {(const float*)X.data, labels, (float*)O.data, cols, (float)dy / (float)rows};
  par_range(rows, (uint64_t)(rows * cols), ce_grad_rows, &ctx);
  return NULL;
}

/* ---------------------------------------------------------------- optimizer */

/*
 * adamwArrays(p, g, m, v, c1, b1, c2, b2, sqrtBc2, eps, stepSize, decay, decays): the update
 * of rtd_native.c's adamw on separate arrays, threaded; each element's float32 operations are
 * the same in the same order, so the result does not depend on the thread count.
 */
typedef struct {
  float* p;
  const float* g;
  float* m;
  float* v;
  float c1, b1, c2, b2, bc2, eps, step, keep;
} adamw_ctx;

static void adamw_range(const void* p_, int64_t i0, int64_t i1) {
  const adamw_ctx* c = (const adamw_ctx*)p_;
  adamw_update(c->p, c->g, c->m, c->v, i0, i1, c->c1, c->b1, c->c2, c->b2, c->bc2, c->eps, c->step, c->keep);
}

static napi_value nk_adamw(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  if (!nk_args(env, info, 13, argv)) return nk_throw(env, "adamwArrays", "expects 13 arguments");
  nk_array P, G, M, V;
  if (!nk_f32(env, argv[0], &P) || !nk_f32(env, argv[1], &G) || !nk_f32(env, argv[2], &M) || !nk_f32(env, argv[3], &V)) return nk_throw(env, "adamwArrays", "p, g, m, v must be Float32Arrays");
  size_t n = P.length;
  if (G.length < n || M.length < n || V.length < n) return nk_throw(env, "adamwArrays", "g, m and v must be as long as p");
  double s[8];
  for (int i = 0; i < 8; i++) NK_CHECK(napi_get_value_double(env, argv[4 + i], &s[i]));
  bool decays = false;
  NK_CHECK(napi_get_value_bool(env, argv[12], &decays));
  /* p·1 is p exactly: one branch-free loop for both */
  const adamw_ctx ctx = {(float*)P.data, (const float*)G.data, (float*)M.data, (float*)V.data, (float)s[0], (float)s[1], (float)s[2], (float)s[3], (float)s[4], (float)s[5],
                         (float)s[6], decays ? (float)s[7] : 1.0f};
  par_range((int64_t)n, n, adamw_range, &ctx);
  return NULL;
}

/* sumsqArray(x) -> sum of x[i]^2 in double (threaded; order-independent to double rounding). */
static napi_value nk_sumsq(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  nk_array X;
  if (!nk_args(env, info, 1, argv) || !nk_f32(env, argv[0], &X)) return nk_throw(env, "sumsqArray", "expects a Float32Array");
  const float* x = (const float*)X.data;
  const int64_t n = (int64_t)X.length;
  double acc = 0;
#pragma omp parallel for reduction(+ : acc) schedule(static) num_threads(nk_threads) if (n > PAR_MIN)
  for (int64_t i = 0; i < n; i++) acc += (double)x[i] * (double)x[i];
  napi_value out;
  NK_CHECK(napi_create_double(env, acc, &out));
  return out;
}

static napi_value nk_set_threads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t n = 1;
  if (!nk_args(env, info, 1, argv) || !nk_i64(env, argv[0], &n) || n < 1 || n > 256) return nk_throw(env, "setThreads", "expects 1-256");
  nk_threads = (int)n;
  pool_set_threads((int)n);
  openblas_set_num_threads((int)n);
#ifdef _OPENMP
  omp_set_num_threads((int)n);
#endif
  return NULL;
}

static napi_value nk_openmp(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
#ifdef _OPENMP
  NK_CHECK(napi_get_boolean(env, true, &out));
#else
  NK_CHECK(napi_get_boolean(env, false, &out));
#endif
  return out;
}

void rtd_register_node_kernels(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"mm", NULL, nk_mm, NULL, NULL, NULL, napi_default, NULL},
      {"binary", NULL, nk_binary, NULL, NULL, NULL, napi_default, NULL},
      {"unary", NULL, nk_unary, NULL, NULL, NULL, napi_default, NULL},
      {"reduce", NULL, nk_reduce, NULL, NULL, NULL, napi_default, NULL},
      {"softmax", NULL, nk_softmax, NULL, NULL, NULL, napi_default, NULL},
      {"transposeArray", NULL, nk_transpose, NULL, NULL, NULL, napi_default, NULL},
      {"gatherArray", NULL, nk_gather, NULL, NULL, NULL, napi_default, NULL},
      {"sliceArray", NULL, nk_slice, NULL, NULL, NULL, napi_default, NULL},
      {"padArray", NULL, nk_pad, NULL, NULL, NULL, napi_default, NULL},
      {"concatArrays", NULL, nk_concat, NULL, NULL, NULL, napi_default, NULL},
      {"segmentSum", NULL, nk_segment_sum, NULL, NULL, NULL, napi_default, NULL},
      {"gelu", NULL, nk_gelu, NULL, NULL, NULL, napi_default, NULL},
      {"geluGrad", NULL, nk_gelu_grad, NULL, NULL, NULL, napi_default, NULL},
      {"dropoutMultiplier", NULL, nk_dropout_multiplier, NULL, NULL, NULL, napi_default, NULL},
      {"layerNorm", NULL, nk_layer_norm, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormGrad", NULL, nk_layer_norm_grad, NULL, NULL, NULL, napi_default, NULL},
      {"attentionProbs", NULL, nk_attention_probs, NULL, NULL, NULL, napi_default, NULL},
      {"attentionProbsGrad", NULL, nk_attention_probs_grad, NULL, NULL, NULL, napi_default, NULL},
      {"dropout", NULL, nk_dropout, NULL, NULL, NULL, napi_default, NULL},
      {"dropoutGrad", NULL, nk_dropout_grad, NULL, NULL, NULL, napi_default, NULL},
      {"mlmCrossEntropy", NULL, nk_mlm_ce, NULL, NULL, NULL, napi_default, NULL},
      {"mlmCrossEntropyGrad", NULL, nk_mlm_ce_grad, NULL, NULL, NULL, napi_default, NULL},
      {"adamwArrays", NULL, nk_adamw, NULL, NULL, NULL, napi_default, NULL},
      {"sumsqArray", NULL, nk_sumsq, NULL, NULL, NULL, napi_default, NULL},
      {"setThreadsAll", NULL, nk_set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"openmp", NULL, nk_openmp, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
