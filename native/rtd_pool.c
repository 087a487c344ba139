/*
 * rtd_pool (see rtd_pool.h). One job at a time: the caller publishes fn/arg and a ticket (job
 * generation, chunk count, next chunk) and bumps `seq`; workers and caller claim chunks by
 * compare-and-swap on the ticket. A claim succeeds only for the generation the claimer woke for
 * and only while chunks remain, so a worker that wakes after its job has finished (or after the
 * next one was published) claims nothing from a job whose fields it has not read. Workers count
 * finished chunks in `done`; the caller waits until every chunk a worker took is done.
 * Idle workers, and a caller waiting for a worker's chunk, spin briefly, then sleep on a
 * condition variable: on an oversubscribed machine a spinning (or sched_yield-ing) waiter would
 * take the core the thread it waits for needs.
 */
#include "rtd_pool.h"

#include <pthread.h>
#include <stdatomic.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define POOL_PAUSE() _mm_pause()
#else
#define POOL_PAUSE() ((void)0)
#endif

#define POOL_MAX_WORKERS 63
/* Spins (pause instructions, a few tens of ns each) before an idle worker sleeps: kernels come
 * back to back within a few microseconds, but the JavaScript between them can take much longer. */
#define POOL_SPIN 4000
#define GEN_BITS 24
#define N_BITS 20
#define N_MAX ((1u << N_BITS) - 1)

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static _Atomic uint64_t pool_seq;    /* generation of the latest job */
static _Atomic uint64_t pool_ticket; /* gen (24 bits) | n (20) | next (20) */
static _Atomic int64_t pool_done;    /* chunks finished by workers in the current job */
static _Atomic int pool_sleepers;
static pthread_mutex_t pool_done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_done_cv = PTHREAD_COND_INITIALIZER;
static _Atomic int pool_caller_waits; /* the caller sleeps until `done` reaches its count */
static _Atomic int pool_busy;        /* a caller owns the workers */
static pool_fn pool_job_fn;
static const void* pool_job_arg;
static _Atomic int pool_job_active;  /* workers with index < this take part */
static int pool_workers;             /* started so far (only the owning caller starts more) */

static _Atomic int pool_thread_count = 1;

void pool_set_threads(int threads) { atomic_store(&pool_thread_count, threads < 1 ? 1 : threads); }

int pool_threads(void) { return atomic_load(&pool_thread_count); }

static int pool_claim(uint64_t gen, int64_t* chunk) {
  uint64_t t = atomic_load_explicit(&pool_ticket, memory_order_acquire);
  for (;;) {
    if ((t >> (2 * N_BITS)) != (gen & ((1u << GEN_BITS) - 1))) return 0;
    const uint64_t n = (t >> N_BITS) & N_MAX, next = t & N_MAX;
    if (next >= n) return 0;
    if (atomic_compare_exchange_weak_explicit(&pool_ticket, &t, t + 1, memory_order_acq_rel, memory_order_acquire)) {
      *chunk = (int64_t)next;
      return 1;
    }
  }
}

static void* pool_worker(void* p) {
  const int index = (int)(intptr_t)p;
  uint64_t seen = atomic_load(&pool_seq);
  for (;;) {
    uint64_t gen;
    int spins = 0;
    while ((gen = atomic_load_explicit(&pool_seq, memory_order_acquire)) == seen) {
      if (++spins < POOL_SPIN) {
        POOL_PAUSE();
        continue;
      }
      pthread_mutex_lock(&pool_mu);
      atomic_fetch_add(&pool_sleepers, 1);
      while (atomic_load(&pool_seq) == seen) pthread_cond_wait(&pool_cv, &pool_mu);
      atomic_fetch_sub(&pool_sleepers, 1);
      pthread_mutex_unlock(&pool_mu);
    }
    seen = gen;
    if (index >= atomic_load_explicit(&pool_job_active, memory_order_relaxed)) continue;
    int64_t chunk;
    while (pool_claim(gen, &chunk)) {
      /* the claim succeeded, so job `gen` is unfinished and its fields are still in place */
      pool_job_fn(pool_job_arg, chunk);
      atomic_fetch_add(&pool_done, 1);
      if (atomic_load(&pool_caller_waits)) {
        pthread_mutex_lock(&pool_done_mu);
        pthread_cond_broadcast(&pool_done_cv);
        pthread_mutex_unlock(&pool_done_mu);
      }
    }
  }
  return NULL;
}

static void pool_start(int want) {
  while (pool_workers < want && pool_workers < POOL_MAX_WORKERS) {
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int ok = pthread_create(&th, &attr, pool_worker, (void*)(intptr_t)pool_workers) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) break;
    pool_workers++;
  }
}

void pool_run(pool_fn fn, const void* arg, int64_t n, int threads) {
  if (n <= 0) return;
  int expected = 0;
  if (threads <= 1 || n == 1 || n > (int64_t)N_MAX || !atomic_compare_exchange_strong(&pool_busy, &expected, 1)) {
    for (int64_t i = 0; i < n; i++) fn(arg, i);
    return;
  }
  pool_start(threads - 1);
  const uint64_t gen = atomic_load(&pool_seq) + 1;
  pool_job_fn = fn;
  pool_job_arg = arg;
  atomic_store_explicit(&pool_job_active, threads - 1, memory_order_relaxed);
  atomic_store_explicit(&pool_done, 0, memory_order_relaxed);
  atomic_store_explicit(&pool_ticket, ((gen & ((1u << GEN_BITS) - 1)) << (2 * N_BITS)) | ((uint64_t)n << N_BITS), memory_order_release);
  atomic_store(&pool_seq, gen);
  if (atomic_load(&pool_sleepers) > 0) {
    pthread_mutex_lock(&pool_mu);
    pthread_cond_broadcast(&pool_cv);
    pthread_mutex_unlock(&pool_mu);
  }
  int64_t chunk, mine = 0;
  while (pool_claim(gen, &chunk)) {
    fn(arg, chunk);
    mine++;
  }
  const int64_t theirs = n - mine;
  for (int spins = 0; spins < POOL_SPIN && atomic_load_explicit(&pool_done, memory_order_acquire) < theirs; spins++) POOL_PAUSE();
  if (atomic_load(&pool_done) < theirs) {
    pthread_mutex_lock(&pool_done_mu);
    atomic_store(&pool_caller_waits, 1);
    while (atomic_load(&pool_done) < theirs) pthread_cond_wait(&pool_done_cv, &pool_done_mu);
    atomic_store(&pool_caller_waits, 0);
    pthread_mutex_unlock(&pool_done_mu);
  }
  atomic_store(&pool_busy, 0);
}
