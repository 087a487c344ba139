/*
 * Replacement sampling in C (src/model/sampling.ts's sampleCategorical, row for row): one
 * categorical draw per row from softmax(logits / T), given each row's uniform u in [0, 1) drawn
 * by the caller's seeded Rng. It computes exactly what the JS loop computes, in the same order
 * and in double: the weights go through a copy of fdlibm's exp, the algorithm V8's Math.exp
 * uses (v8/src/base/ieee754.cc), so the drawn ids are the JS ones bit for bit (a test compares
 * both on many rows). Rows are independent, so they are split over the OpenMP threads.
 */
#include <node_api.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rtd_pool.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static inline uint32_t hi_word(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return (uint32_t)(b >> 32);
}
static inline uint32_t lo_word(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return (uint32_t)b;
}
static inline double from_words(uint32_t hi, uint32_t lo) {
  uint64_t b = ((uint64_t)hi << 32) | lo;
  double x;
  memcpy(&x, &b, sizeof x);
  return x;
}

/* fdlibm e_exp.c as in V8's ieee754::exp (including its exp(1) == E special case). */
static double fdlibm_exp(double x) {
  static const double one = 1.0, halF[2] = {0.5, -0.5}, o_threshold = 7.09782712893383973096e+02, u_threshold = -7.45133219101941108420e+02,
                      ln2HI[2] = {6.93147180369123816490e-01, -6.93147180369123816490e-01}, ln2LO[2] = {1.90821492927058770002e-10, -1.90821492927058770002e-10},
                      invln2 = 1.44269504088896338700e+00, P1 = 1.66666666666666019037e-01, P2 = -2.77777777770155933842e-03,
                      P3 = 6.61375632143793436117e-05, P4 = -1.65339022054652515390e-06, P5 = 4.13813679705723846039e-08, E = 2.718281828459045,
                      huge = 1.0e+300, twom1000 = 9.33263618503218878990e-302, two1023 = 8.988465674311579539e307;
  double y, hi = 0.0, lo = 0.0, c, t, twopk;
  int32_t k = 0;
  uint32_t hx = hi_word(x);
  const int xsb = (int)((hx >> 31) & 1);
  hx &= 0x7FFFFFFF;
  if (hx >= 0x40862E42) { /* |x| >= 709.78... */
    if (hx >= 0x7FF00000) {
      if (((hx & 0xFFFFF) | lo_word(x)) != 0) return x + x; /* NaN */
      return xsb == 0 ? x : 0.0;                          /* exp(+-inf) = {inf, 0} */
    }
    if (x > o_threshold) return huge * huge;
    if (x < u_threshold) return twom1000 * twom1000;
  }
  if (hx > 0x3FD62E42) {   /* |x| > 0.5 ln2 */
    if (hx < 0x3FF0A2B2) { /* and |x| < 1.5 ln2 */
      if (x == 1.0) return E;
      hi = x - ln2HI[xsb];
      lo = ln2LO[xsb];
      k = 1 - xsb - xsb;
    } else {
      k = (int32_t)(invln2 * x + halF[xsb]);
      t = k;
      hi = x - t * ln2HI[0];
      lo = t * ln2LO[0];
    }
    x = hi - lo;
  } else if (hx < 0x3E300000) { /* |x| < 2**-28 */
    if (huge + x > one) return one + x;
  } else {
    k = 0;
  }
  t = x * x;
  if (k >= -1021) {
    twopk = from_words(0x3FF00000u + ((uint32_t)k << 20), 0);
  } else {
    twopk = from_words(0x3FF00000u + ((uint32_t)(k + 1000) << 20), 0);
  }
  c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
  if (k == 0) return one - ((x * c) / (c - 2.0) - x);
  y = one - ((lo - (x * c) / (2.0 - c)) - hi);
  if (k >= -1021) {
    if (k == 1024) return y * 2.0 * two1023;
    return y * twopk;
  }
  return y * twopk * twom1000;
}

/*
 * The same exp, 4 doubles at a time with AVX2 (run only where the CPU has it): the same IEEE
 * operations in the same order per lane, so the same bits as fdlibm_exp. Only lanes with
 * 2^-28 <= |x| < 704 and x != 1 take this path (no overflow, underflow or special value, and
 * 2^k stays a normal number); a block of 4 with any other lane goes through fdlibm_exp.
 */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define RTD_EXP_AVX2 1
__attribute__((target("avx2"))) static void exp_ratio_avx2(const float* logits, double max, double T, double* w, int64_t n) {
  const __m256d one = _mm256_set1_pd(1.0), two = _mm256_set1_pd(2.0), half = _mm256_set1_pd(0.5), invln2 = _mm256_set1_pd(1.44269504088896338700e+00),
                ln2HI = _mm256_set1_pd(6.93147180369123816490e-01), ln2LO = _mm256_set1_pd(1.90821492927058770002e-10),
                P1 = _mm256_set1_pd(1.66666666666666019037e-01), P2 = _mm256_set1_pd(-2.77777777770155933842e-03), P3 = _mm256_set1_pd(6.61375632143793436117e-05),
                P4 = _mm256_set1_pd(-1.65339022054652515390e-06), P5 = _mm256_set1_pd(4.13813679705723846039e-08), vmax = _mm256_set1_pd(max),
                vT = _mm256_set1_pd(T), signbit = _mm256_set1_pd(-0.0);
  const __m256i absMask = _mm256_set1_epi64x(0x7FFFFFFF), lo28 = _mm256_set1_epi64x(0x3E300000 - 1), hi704 = _mm256_set1_epi64x(0x40860000),
                halfLn2 = _mm256_set1_epi64x(0x3FD62E42), oneHalfLn2 = _mm256_set1_epi64x(0x3FF0A2B2 - 1), bias = _mm256_set1_epi64x(1023);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256d x = _mm256_div_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(logits + i)), vmax), vT);
    const __m256i hx = _mm256_and_si256(_mm256_srli_epi64(_mm256_castpd_si256(x), 32), absMask);
    /* fast lanes: hx >= 0x3E300000, hx < 0x40860000, x != 1 */
    const __m256i ok = _mm256_andnot_si256(_mm256_or_si256(_mm256_cmpgt_epi64(hx, _mm256_sub_epi64(hi704, _mm256_set1_epi64x(1))), _mm256_castpd_si256(_mm256_cmp_pd(x, one, _CMP_EQ_OQ))),
                                           _mm256_cmpgt_epi64(hx, lo28));
    if (_mm256_movemask_pd(_mm256_castsi256_pd(ok)) != 0xF) {
      for (int j = 0; j < 4; j++) w[i + j] = fdlibm_exp(((double)logits[i + j] - max) / T);
      continue;
    }
    const __m256d sgn = _mm256_and_pd(x, signbit);                        /* xsb */
    const __m256d caseA = _mm256_castsi256_pd(_mm256_cmpgt_epi64(hx, oneHalfLn2)); /* |x| >= 1.5 ln2 */
    const __m256d reduce = _mm256_castsi256_pd(_mm256_cmpgt_epi64(hx, halfLn2)); /* |x| > 0.5 ln2 */
    /* case A: k = (int)(invln2 * x + halF[xsb]); hi = x - k ln2HI; lo = k ln2LO */
    const __m128i kA = _mm256_cvttpd_epi32(_mm256_add_pd(_mm256_mul_pd(invln2, x), _mm256_or_pd(half, sgn)));
    const __m256d tA = _mm256_cvtepi32_pd(kA);
    const __m256d hiA = _mm256_sub_pd(x, _mm256_mul_pd(tA, ln2HI)), loA = _mm256_mul_pd(tA, ln2LO);
    /* case B: hi = x - ln2HI[xsb]; lo = ln2LO[xsb]; k = 1 - 2 xsb */
    const __m256d hiB = _mm256_sub_pd(x, _mm256_or_pd(ln2HI, sgn)), loB = _mm256_or_pd(ln2LO, sgn);
    const __m256d tB = _mm256_or_pd(one, sgn);
    const __m256d hi = _mm256_blendv_pd(hiB, hiA, caseA), lo = _mm256_blendv_pd(loB, loA, caseA);
    /* k as a double (exact): case A, case B, else 0 */
    const __m256d kd = _mm256_and_pd(_mm256_blendv_pd(tB, tA, caseA), reduce);
    const __m256d xr = _mm256_blendv_pd(x, _mm256_sub_pd(hi, lo), reduce);
    const __m256d t = _mm256_mul_pd(xr, xr);
    const __m256d poly = _mm256_add_pd(P1, _mm256_mul_pd(t, _mm256_add_pd(P2, _mm256_mul_pd(t, _mm256_add_pd(P3, _mm256_mul_pd(t, _mm256_add_pd(P4, _mm256_mul_pd(t, P5))))))));
    const __m256d c = _mm256_sub_pd(xr, _mm256_mul_pd(t, poly));
    const __m256d xc = _mm256_mul_pd(xr, c);
    /* k == 0: one - ((x c) / (c - 2) - x); else y = one - ((lo - (x c) / (2 - c)) - hi), times 2^k */
    const __m256d q = _mm256_div_pd(xc, _mm256_blendv_pd(_mm256_sub_pd(c, two), _mm256_sub_pd(two, c), reduce));
    const __m256d r0 = _mm256_sub_pd(one, _mm256_sub_pd(q, xr));
    const __m256d y = _mm256_sub_pd(one, _mm256_sub_pd(_mm256_sub_pd(lo, q), hi));
    const __m256i k64 = _mm256_cvtepi32_epi64(_mm256_cvttpd_epi32(kd));
    const __m256d twopk = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(k64, bias), 52));
    _mm256_storeu_pd(w + i, _mm256_blendv_pd(r0, _mm256_mul_pd(y, twopk), reduce));
  }
  for (; i < n; i++) w[i] = fdlibm_exp(((double)logits[i] - max) / T);
}
#endif

static int use_avx2 = -1;

/* w[v] = exp((logits[v] - max) / T) for one row, vectorized where the CPU allows. */
static void exp_row(const float* logits, int64_t vocab, double max, double T, double* w) {
#ifdef RTD_EXP_AVX2
  if (use_avx2) {
    exp_ratio_avx2(logits, max, T, w, vocab);
    return;
  }
#endif
  for (int64_t v = 0; v < vocab; v++) w[v] = fdlibm_exp(((double)logits[v] - max) / T);
}

/* One row: the JS loop of sampleCategorical, statement for statement. */
static int32_t sample_row(const float* logits, int64_t vocab, double T, double u01, double* w) {
  /* Math.max over the row: NaN if any is NaN, else the largest */
  float maxf = -INFINITY;
  int nan = 0;
  for (int64_t v = 0; v < vocab; v++) {
    const float x = logits[v];
    nan |= x != x;
    maxf = x > maxf ? x : maxf;
  }
  const double max = nan ? NAN : (double)maxf;
  exp_row(logits, vocab, max, T, w);
  double total = 0;
  for (int64_t v = 0; v < vocab; v++) total += w[v];
  double u = u01 * total;
  int32_t pick = -1;
  for (int64_t v = 0; v < vocab; v++) {
    if (w[v] == 0) continue;
    pick = (int32_t)v;
    u -= w[v];
    if (u < 0) break;
  }
  return pick;
}

static napi_value throw_range(napi_env env, const char* what) {
  napi_throw_range_error(env, NULL, what);
  return NULL;
}

/* Reads argv[0..n) as typed arrays of the wanted types; false (nothing thrown) when one is not. */
static bool typed_args(napi_env env, const napi_value* argv, int n, const napi_typedarray_type* want, void** data, size_t* len) {
  for (int i = 0; i < n; i++) {
    bool is = false;
    napi_typedarray_type type;
    napi_value ab;
    size_t off;
    if (napi_is_typedarray(env, argv[i], &is) != napi_ok || !is || napi_get_typedarray_info(env, argv[i], &type, &len[i], &data[i], &ab, &off) != napi_ok ||
        type != want[i]) {
      return false;
    }
  }
  return true;
}

static void probe_avx2(void) {
#ifdef RTD_EXP_AVX2
  if (use_avx2 < 0) use_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
#else
  use_avx2 = 0;
#endif
}

/* Threads for a rows x vocab pass (one is cheaper below 64k values) and a vocab-long double row each. */
static double* row_scratch(int64_t rows, int64_t vocab, int* threads) {
#ifdef _OPENMP
  *threads = rows * vocab > 65536 ? omp_get_max_threads() : 1;
#else
  *threads = 1;
#endif
  return (double*)malloc(sizeof(double) * (size_t)vocab * (size_t)*threads);
}

static double* thread_row(double* w, int64_t vocab) {
#ifdef _OPENMP
  return w + (size_t)omp_get_thread_num() * (size_t)vocab;
#else
  (void)vocab;
  return w;
#endif
}

typedef struct {
  const float* logits;
  const double* uni;
  int32_t* out;
  double* w;
  int64_t rows, vocab, chunks;
  double T;
} sample_ctx;

static void sample_chunk(const void* p, int64_t c) {
  const sample_ctx* s = (const sample_ctx*)p;
  double* mine = s->w + (size_t)c * (size_t)s->vocab;
  const int64_t r0 = s->rows * c / s->chunks, r1 = s->rows * (c + 1) / s->chunks;
  for (int64_t r = r0; r < r1; r++) s->out[r] = sample_row(s->logits + r * s->vocab, s->vocab, s->T, s->uni[r], mine);
}

/*
 * sampleRows(logits Float32Array [rows*vocab], uniforms Float64Array [rows], out Int32Array [rows], vocab, T)
 */
static napi_value nk_sample_rows(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5) return throw_range(env, "rtd_native.sampleRows: expects 5 arguments");
  void* data[3];
  size_t len[3];
  const napi_typedarray_type want[3] = {napi_float32_array, napi_float64_array, napi_int32_array};
  if (!typed_args(env, argv, 3, want, data, len)) {
    return throw_range(env, "rtd_native.sampleRows: logits, uniforms and out must be Float32Array, Float64Array and Int32Array");
  }
  int64_t vocab;
  double T;
  if (napi_get_value_int64(env, argv[3], &vocab) != napi_ok || napi_get_value_double(env, argv[4], &T) != napi_ok) {
    return throw_range(env, "rtd_native.sampleRows: vocab and temperature must be numbers");
  }
  const int64_t rows = (int64_t)len[1];
  if (vocab < 1 || !(T > 0) || (uint64_t)rows * (uint64_t)vocab != len[0] || len[2] < (size_t)rows) {
    return throw_range(env, "rtd_native.sampleRows: sizes do not match (logits rows*vocab, out rows, vocab >= 1, T > 0)");
  }
  probe_avx2();
  const float* logits = (const float*)data[0];
  const double* uni = (const double*)data[1];
  int32_t* out = (int32_t*)data[2];
  /* chunks of rows on the pool (rtd_pool.h), one weight row per chunk */
  const int nt = pool_threads();
  const int64_t chunks = nt > 1 && rows * vocab > 65536 ? (rows < 4 * (int64_t)nt ? rows : 4 * (int64_t)nt) : 1;
  double* w = (double*)malloc(sizeof(double) * (size_t)vocab * (size_t)chunks);
  if (w == NULL) {
    napi_throw_error(env, NULL, "rtd_native.sampleRows: out of memory");
    return NULL;
  }
  const sample_ctx ctx = {logits, uni, out, w, rows, vocab, chunks, T};
  pool_run(sample_chunk, &ctx, chunks, nt);
  free(w);
  return NULL;
}

/*
 * logitRowStats(logits Float32Array [rows*vocab], max Float64Array [rows], argmax Int32Array [rows], sumExp Float64Array [rows])
 * Per row, as mlmTokenStats (src/pretrain/masked-lm-outputs.ts) computes them in JS: the first
 * largest logit and its id (NaN never wins; -Infinity and id 0 for a row of NaN) and
 * sum_v exp(logit_v - max) in double, in order, with fdlibm's exp (Math.exp's bits).
 */
static napi_value nk_logit_row_stats(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return throw_range(env, "rtd_native.logitRowStats: expects 4 arguments");
  void* data[4];
  size_t len[4];
  const napi_typedarray_type want[4] = {napi_float32_array, napi_float64_array, napi_int32_array, napi_float64_array};
  if (!typed_args(env, argv, 4, want, data, len)) {
    return throw_range(env, "rtd_native.logitRowStats: expects Float32Array, Float64Array, Int32Array, Float64Array");
  }
  const int64_t rows = (int64_t)len[1];
  if (rows < 1 || len[2] != (size_t)rows || len[3] != (size_t)rows || len[0] % (size_t)rows != 0 || len[0] == 0) {
    return throw_range(env, "rtd_native.logitRowStats: logits must be rows*vocab (vocab >= 1) and max, argmax, sumExp rows long");
  }
  const int64_t vocab = (int64_t)(len[0] / (size_t)rows);
  probe_avx2();
  const float* logits = (const float*)data[0];
  double* maxOut = (double*)data[1];
  int32_t* argOut = (int32_t*)data[2];
  double* sumOut = (double*)data[3];
  int threads;
  double* w = row_scratch(rows, vocab, &threads);
  if (w == NULL) {
    napi_throw_error(env, NULL, "rtd_native.logitRowStats: out of memory");
    return NULL;
  }
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t r = 0; r < rows; r++) {
    double* mine = thread_row(w, vocab);
    const float* row = logits + r * vocab;
    float max = -INFINITY;
    int32_t arg = 0;
    for (int64_t v = 0; v < vocab; v++) {
      if (row[v] > max) {
        max = row[v];
        arg = (int32_t)v;
      }
    }
    exp_row(row, vocab, (double)max, 1.0, mine);
    double sum = 0;
    for (int64_t v = 0; v < vocab; v++) sum += mine[v];
    maxOut[r] = max;
    argOut[r] = arg;
    sumOut[r] = sum;
  }
  free(w);
  return NULL;
}

void rtd_register_sampling(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sampleRows", NULL, nk_sample_rows, NULL, NULL, NULL, napi_default, NULL},
      {"logitRowStats", NULL, nk_logit_row_stats, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
