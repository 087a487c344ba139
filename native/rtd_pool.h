/*
 * rtd_pool: a small work-claiming thread pool for the native backend's matrix products.
 *
 * pool_run(fn, arg, n, threads) calls fn(arg, i) once for every i in [0, n) and returns when all
 * calls have finished. The calling thread claims chunks itself, and up to threads - 1 pool
 * workers claim chunks beside it; unlike an OpenMP team, the caller never waits for a worker that
 * has not started: a worker that wakes late (another process has its core) finds nothing left,
 * and the caller waits only for chunks a worker actually took. Which thread runs a chunk never
 * changes its numbers. One caller at a time uses the workers; a second concurrent caller
 * (another Node worker thread) runs its chunks alone.
 */
#ifndef RTD_POOL_H
#define RTD_POOL_H

#include <stdint.h>

typedef void (*pool_fn)(const void* arg, int64_t chunk);

void pool_run(pool_fn fn, const void* arg, int64_t n, int threads);

/* The thread count kernels use (setThreadsAll sets it; default 1). */
void pool_set_threads(int threads);
int pool_threads(void);

#endif
