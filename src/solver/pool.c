/* The solvers' worker threads (src/solver_internal.h, ovica__pool): a pool
 * lives for one call, so there is no global state. Rows are handed out in
 * chunks through one atomic counter; which thread codes which row does not
 * change any result, because every row's work reads and writes only that
 * row (and its thread's own scratch, rewritten before it is read). */
#include "solver_internal.h"

static void run_chunks(ovica__pool *p, size_t worker)
{
    for (;;) {
        size_t r0 = atomic_fetch_add(&p->next, p->chunk);
        if (r0 >= p->count) break;
        size_t r1 = r0 + p->chunk < p->count ? r0 + p->chunk : p->count;
        p->fn(p->task, worker, r0, r1);
    }
}

static void *worker_main(void *arg)
{
    ovica__pool *p = ((ovica__pool_arg *)arg)->pool;
    const size_t index = ((ovica__pool_arg *)arg)->index;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->quit) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        run_chunks(p, index);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

void ovica__pool_start(ovica__pool *p, size_t threads)
{
    p->nw = 0;
    p->have = 0;
    p->gen = 0;
    p->busy = 0;
    p->quit = 0;
    atomic_init(&p->next, 0);
    if (threads > OVICA__POOL_MAX) threads = OVICA__POOL_MAX;
    if (threads < 2) return;
    if (pthread_mutex_init(&p->mu, NULL) != 0) return;
    if (pthread_cond_init(&p->go, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return;
    }
    if (pthread_cond_init(&p->done, NULL) != 0) {
        pthread_cond_destroy(&p->go);
        pthread_mutex_destroy(&p->mu);
        return;
    }
    p->have = 1;
    for (; p->nw + 1 < threads; p->nw++) {
        ovica__pool_arg *a = &p->args[p->nw];
        a->pool = p;
        a->index = p->nw + 1;
        if (pthread_create(&p->tid[p->nw], NULL, worker_main, a) != 0) break;
    }
}

void ovica__pool_run(ovica__pool *p, ovica__pool_fn fn, void *task, size_t count, size_t chunk)
{
    p->fn = fn;
    p->task = task;
    p->count = count;
    p->chunk = chunk > 0 ? chunk : 1;
    atomic_store(&p->next, 0);
    const int spread = p->nw > 0 && count > p->chunk;
    if (spread) {
        pthread_mutex_lock(&p->mu);
        p->gen++;
        p->busy = p->nw;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    run_chunks(p, 0);
    if (spread) {
        pthread_mutex_lock(&p->mu);
        while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

void ovica__pool_stop(ovica__pool *p)
{
    if (!p->have) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->nw; i++) pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->mu);
    p->have = 0;
    p->nw = 0;
}
