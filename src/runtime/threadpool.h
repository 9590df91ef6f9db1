/* A small fork-join pool owned by a session: parallel_for over [0, n). */
#ifndef OCT_RUNTIME_THREADPOOL_H
#define OCT_RUNTIME_THREADPOOL_H

#include <stdint.h>

typedef struct oct_pool oct_pool;
/* fn(ctx, begin, end) is called on disjoint chunks covering [0, n). */
typedef void (*oct_range_fn)(void *ctx, int64_t begin, int64_t end);

oct_pool *oct_pool_create(int threads); /* threads <= 1: no workers */
void oct_pool_free(oct_pool *p);
int oct_pool_threads(const oct_pool *p);
/* Runs fn over [0, n) split into chunks of at least `grain` items; p may be
 * NULL (runs inline). Returns after every chunk is done. */
void oct_parallel_for(oct_pool *p, int64_t n, int64_t grain, oct_range_fn fn, void *ctx);

#endif
