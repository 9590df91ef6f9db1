#include <pthread.h>
#include <stdlib.h>

#include "runtime/threadpool.h"

struct oct_pool {
    int threads;
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t start, done;
    uint64_t generation;
    int pending;
    int quit;
    /* the current job */
    oct_range_fn fn;
    void *ctx;
    int64_t n, chunk;
};

static void run_share(oct_pool *p, int id) {
    int64_t b = (int64_t)id * p->chunk, e = b + p->chunk;
    if (e > p->n) e = p->n;
    if (b < e) p->fn(p->ctx, b, e);
}

static void *worker(void *arg) {
    oct_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    int id = -1;
    for (int i = 0; i < p->threads - 1; i++)
        if (pthread_equal(p->workers[i], pthread_self())) id = i + 1;
    uint64_t seen = 0; /* not p->generation: a job may already be posted before this worker first runs */
    for (;;) {
        while (!p->quit && p->generation == seen) pthread_cond_wait(&p->start, &p->mu);
        if (p->quit) break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        run_share(p, id);
        pthread_mutex_lock(&p->mu);
        if (--p->pending == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

oct_pool *oct_pool_create(int threads) {
    oct_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->done, NULL);
    if (p->threads > 1) {
        p->workers = calloc((size_t)p->threads, sizeof(pthread_t));
        if (!p->workers) {
            p->threads = 1;
            return p;
        }
        /* Workers look up their id under the mutex, after all are created. */
        pthread_mutex_lock(&p->mu);
        for (int i = 0; i < p->threads - 1; i++)
            if (pthread_create(&p->workers[i], NULL, worker, p)) {
                p->threads = i + 1;
                break;
            }
        pthread_mutex_unlock(&p->mu);
    }
    return p;
}

void oct_pool_free(oct_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->threads - 1; i++) pthread_join(p->workers[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->done);
    free(p->workers);
    free(p);
}

int oct_pool_threads(const oct_pool *p) { return p ? p->threads : 1; }

void oct_parallel_for(oct_pool *p, int64_t n, int64_t grain, oct_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int t = p ? p->threads : 1;
    if (t > 1 && n / grain < t) t = (int)(n / grain);
    if (t <= 1) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->chunk = (n + p->threads - 1) / p->threads;
    p->pending = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mu);
    run_share(p, 0);
    pthread_mutex_lock(&p->mu);
    while (p->pending > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
