/* engine/par.c — the engine's one worker thread (docs/engine.md "Performance").
 *
 * The worker runs tasks whose results do not depend on when or where they run: half of the
 * validation, the energy pass (a function of the log alone), half of the output permutation. Each
 * task writes only its own outputs, which the main thread merges in a fixed order after joining,
 * so every result is bit-identical with one thread or two. If the thread cannot be created the
 * engine runs single-threaded; nothing aborts.
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <pthread.h>
#include <stdlib.h>

#include "engine/internal.h"

struct en_worker {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    en_task_fn fn;          /* the task posted, NULL when idle */
    void *arg;
    int busy, quit;
};

static void *worker_main(void *arg) {
    struct en_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->fn == NULL && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
        if (w->fn == NULL) break;
        en_task_fn fn = w->fn;
        void *a = w->arg;
        pthread_mutex_unlock(&w->mu);
        fn(a);
        pthread_mutex_lock(&w->mu);
        w->fn = NULL;
        w->busy = 0;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* 1 when the worker runs, 0 when the engine must work alone. */
int en_worker_start(en_ctx *c) {
    struct en_worker *w = calloc(1, sizeof *w);
    if (w == NULL) return 0;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return 0;
    }
    if (pthread_cond_init(&w->cv, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        free(w);
        return 0;
    }
    if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return 0;
    }
    c->wk = w;
    return 1;
}

/* Post fn(arg) to the worker; without one, run it here and now. One task at a time. */
void en_worker_run(en_ctx *c, en_task_fn fn, void *arg) {
    struct en_worker *w = c->wk;
    if (w == NULL) {
        fn(arg);
        return;
    }
    pthread_mutex_lock(&w->mu);
    while (w->busy) pthread_cond_wait(&w->cv, &w->mu);
    w->fn = fn;
    w->arg = arg;
    w->busy = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Wait until the posted task (if any) has finished. */
void en_worker_join(en_ctx *c) {
    struct en_worker *w = c->wk;
    if (w == NULL) return;
    pthread_mutex_lock(&w->mu);
    while (w->busy) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void en_worker_stop(en_ctx *c) {
    struct en_worker *w = c->wk;
    if (w == NULL) return;
    pthread_mutex_lock(&w->mu);
    while (w->busy) pthread_cond_wait(&w->cv, &w->mu);
    w->quit = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    c->wk = NULL;
}
