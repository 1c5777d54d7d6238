/* engine/admit.c — the edge stream and admission (docs/engine.md "Performance").
 *
 * The hazard walk (hazard.c) runs ahead of the simulation, on the worker thread when there
 * is one, and publishes each op's predecessor list in log order, plus one delivery list per SEND
 * after its superstep. The simulation ADMITS an op before anything can make it ready: before the
 * sim starts for every op up to the last one without a unit predecessor, and otherwise when its
 * unit predecessor releases it (sim.c calls en_admit_op then); a SEND's delivery list before
 * its first packet reaches a destination write. Admitting op y puts y on the successor list of
 * each predecessor still running, and resolves y at once for each that has already completed (or
 * finished reading, for WAR), in the order those completions happened (ctx->seq). The simulation
 * then sees every resolve of y in the same order and with the same times as if the whole graph had
 * been built first, so the results never depend on how far ahead the walk ran.
 *
 * The stream is a single-producer single-consumer list of segments; the producer publishes whole
 * entries (release) and waits while too far ahead; the consumer frees segments it has read.
 */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200809L
#undef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define EN_AHEAD_WORDS ((uint64_t)1 << 24)      /* the walk sleeps when this far ahead ... */
#define EN_RESUME_WORDS ((uint64_t)1 << 23)     /* ... until the simulation is this close */

struct en_sync {
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

int32_t en_stream_init(en_stream *s) {
    memset(s, 0, sizeof *s);
    en_seg *g = malloc(sizeof *g);
    if (g == NULL) return CHIPEMU_ERR_NOMEM;
    g->next = NULL;
    s->wseg = s->rseg = g;
    atomic_init(&s->published, 0);
    atomic_init(&s->consumed, 0);
    atomic_init(&s->finished, 0);
    atomic_init(&s->stop, 0);
    atomic_init(&s->sleeping, 0);
    s->sync = malloc(sizeof *s->sync);
    if (s->sync == NULL) return CHIPEMU_ERR_NOMEM;
    if (pthread_mutex_init(&s->sync->mu, NULL) != 0) {
        free(s->sync);
        s->sync = NULL;
        return CHIPEMU_ERR_NOMEM;
    }
    if (pthread_cond_init(&s->sync->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->sync->mu);
        free(s->sync);
        s->sync = NULL;
        return CHIPEMU_ERR_NOMEM;
    }
    return CHIPEMU_OK;
}

/* Consumer: wake the producer once it has room again; or when the consumer stops. */
static void wake(en_stream *s, int always) {
    if (!atomic_load_explicit(&s->sleeping, memory_order_acquire)) return;
    if (!always && atomic_load_explicit(&s->published, memory_order_acquire) - s->read > EN_RESUME_WORDS)
        return;
    pthread_mutex_lock(&s->sync->mu);
    pthread_cond_broadcast(&s->sync->cv);
    pthread_mutex_unlock(&s->sync->mu);
}

void en_stream_stop(en_stream *s) {
    atomic_store_explicit(&s->stop, 1, memory_order_release);
    if (s->sync != NULL) wake(s, 1);
}

void en_stream_free(en_stream *s) {
    if (s->sync != NULL) {
        pthread_cond_destroy(&s->sync->cv);
        pthread_mutex_destroy(&s->sync->mu);
        free(s->sync);
        s->sync = NULL;
    }
    for (en_seg *g = s->rseg; g != NULL;) {
        en_seg *next = g->next;
        free(g);
        g = next;
    }
    s->rseg = s->wseg = NULL;
}

/* Producer: the current segment is full; start the next one. */
int32_t en_stream_grow(en_stream *s) {
    en_seg *g = malloc(sizeof *g);
    if (g == NULL) return CHIPEMU_ERR_NOMEM;
    g->next = NULL;
    s->wseg->next = g;                                     /* visible with the next publish */
    s->wseg = g;
    s->wi = 0;
    return CHIPEMU_OK;
}

void en_stream_publish(en_stream *s) {
    atomic_store_explicit(&s->published, s->written, memory_order_release);
}

/* Producer, between entries: wait while far ahead of the consumer, having published what it
 * safely can (up to `safe`). 1 when asked to stop. */
int en_stream_wait_room(en_stream *s, int threaded, uint64_t safe) {
    if (!threaded) return 0;
    /* only published words count: words held back for the dedup window (hazard.c) cannot
     * be read yet, so waiting on them could never end */
    uint64_t pub = atomic_load_explicit(&s->published, memory_order_relaxed);
    if (safe > pub) atomic_store_explicit(&s->published, pub = safe, memory_order_release);
    if (pub - atomic_load_explicit(&s->consumed, memory_order_acquire) < EN_AHEAD_WORDS)
        return atomic_load_explicit(&s->stop, memory_order_acquire);
    pthread_mutex_lock(&s->sync->mu);
    atomic_store_explicit(&s->sleeping, 1, memory_order_seq_cst);
    while (!atomic_load_explicit(&s->stop, memory_order_seq_cst) &&
           pub - atomic_load_explicit(&s->consumed, memory_order_seq_cst) > EN_RESUME_WORDS)
        pthread_cond_wait(&s->sync->cv, &s->sync->mu);
    atomic_store_explicit(&s->sleeping, 0, memory_order_relaxed);
    pthread_mutex_unlock(&s->sync->mu);
    return atomic_load_explicit(&s->stop, memory_order_acquire);
}

/* The worker's task: the whole walk, then the producer's status (+ 1) in `finished`. */
void en_walk_task(void *arg) {
    en_ctx *c = arg;
    int r;
    do {
        r = en_walk_step(c);
    } while (r == 1);
    en_stream_publish(&c->es);
    atomic_store_explicit(&c->es.finished, (r < 0 ? -r : CHIPEMU_OK) + 1, memory_order_release);
}

/* Consumer: more published words, producing (one thread) or waiting (two) as needed. 1: some;
 * 0: the stream ended; < 0: -status of a failed walk. */
static int refill(en_ctx *c) {
    en_stream *s = &c->es;
    int spins = 0;
    atomic_store_explicit(&s->consumed, s->read, memory_order_seq_cst);
    if (atomic_load_explicit(&s->sleeping, memory_order_seq_cst)) wake(s, 0);
    for (;;) {
        s->avail = atomic_load_explicit(&s->published, memory_order_acquire);
        if (s->avail > s->read) return 1;
        if (c->wk == NULL) {
            int r = en_walk_step(c);
            if (r < 0) return r;
            if (r == 0 && s->read == s->written) return 0;
            continue;
        }
        int32_t fin = atomic_load_explicit(&s->finished, memory_order_acquire);
        if (fin != 0 && s->read == atomic_load_explicit(&s->published, memory_order_acquire))
            return fin == CHIPEMU_OK + 1 ? 0 : -(fin - 1);
        if (++spins < 4096) continue;                      /* the walk is usually just behind */
        sched_yield();
    }
}

/* Consumer: the next word. 1: *w set; 0: the stream ended; < 0: -status of a failed walk. */
static inline int next_word(en_ctx *c, uint32_t *w) {
    en_stream *s = &c->es;
    if (__builtin_expect(s->read == s->avail, 0)) {
        int r = refill(c);
        if (r <= 0) return r;
    }
    if (__builtin_expect(s->ri == EN_SEG_WORDS, 0)) {
        en_seg *old = s->rseg;
        s->rseg = old->next;
        s->ri = 0;
        free(old);
    }
    *w = s->rseg->w[s->ri++];
    if (__builtin_expect((++s->read & 8191) == 0, 0)) {
        atomic_store_explicit(&s->consumed, s->read, memory_order_seq_cst);
        if (atomic_load_explicit(&s->sleeping, memory_order_seq_cst)) wake(s, 0);
    }
    return 1;
}

/* ---- successor lists: entries in the predecessor's record, then chunks (their order does not
 * matter: each successor's resolves come in the order its predecessors hand over) ---- */

static inline int32_t succ_push(en_ctx *c, int32_t p, uint32_t v) {
    en_op *o = &c->ops[p];
    uint32_t k = o->n_succ;
    if (k < EN_SUCC_INLINE) {
        o->succ[k] = (int32_t)v;
    } else {
        uint32_t j = (k - EN_SUCC_INLINE) % EN_SUCC_CHUNK;
        if (j == 0) {
            if (c->sch_n >= INT32_MAX ||
                en_grow((void **)&c->sch, &c->sch_cap, c->sch_n + 1, sizeof(en_schunk)) != CHIPEMU_OK)
                return CHIPEMU_ERR_NOMEM;
            int32_t ch = (int32_t)c->sch_n++;
            c->sch[ch].next = -1;
            if (k == EN_SUCC_INLINE) o->ovf_head = ch;
            else c->sch[o->ovf_tail].next = ch;
            o->ovf_tail = ch;
        }
        c->sch[o->ovf_tail].e[j] = (int32_t)v;
    }
    o->n_succ = k + 1;
    return CHIPEMU_OK;
}

/* ---- admission ---- */

typedef struct en_imm { uint32_t seq; int32_t pred; int64_t t; int kind; } en_imm;

/* Has pred already handed over for this edge? Then when, and in which completion order. */
static int handed_over(const en_ctx *c, int32_t p, int read, int64_t *t, uint32_t *seq) {
    const en_op *o = &c->ops[p];
    if (read && en_is_dma(o->op)) {
        const en_dmax *d = &c->dmax[o->aux];
        if (d->read_done < 0) return 0;
        *t = d->read_done;
        *seq = d->read_seq;
        return 1;
    }
    if (!(o->flags & EN_OP_DONE)) return 0;
    *t = en_op_end(c, p);
    *seq = (uint32_t)o->pending;                           /* completed: pending holds its seq */
    return 1;
}

/* One entry: op y's predecessors (deliv = 0) or SEND y's delivery predecessors (deliv = 1). */
static int32_t admit_entry(en_ctx *c, int32_t y, uint32_t n, int deliv) {
    en_op *o = &c->ops[y];
    en_dmax *d = deliv ? &c->dmax[o->aux] : NULL;
    int64_t n_imm = 0;
    int32_t st = CHIPEMU_OK;
    uint32_t buf[16];                                        /* read ahead: fetch the records */
    for (uint32_t k = 0; k < n; k++) {
        uint32_t v;
        if (k % 16 == 0) {
            for (uint32_t j = 0; j < 16 && k + j < n; j++) {
                int r = next_word(c, &buf[j]);
                if (r <= 0) return r < 0 ? -r : CHIPEMU_ERR_NOMEM;   /* an entry cut short: cannot happen */
                __builtin_prefetch(&c->ops[buf[j] & EN_SUCC_MASK]);
            }
        }
        v = buf[k % 16];
        int32_t p = (int32_t)(v & EN_SUCC_MASK);
        int read = (v & EN_READ) != 0;
        int64_t t;
        uint32_t seq;
        if (handed_over(c, p, read, &t, &seq)) {
            if (en_grow((void **)&c->imm, &c->imm_cap, n_imm + 1, sizeof(en_imm)) != CHIPEMU_OK)
                return CHIPEMU_ERR_NOMEM;
            en_imm *m = &c->imm[n_imm++];
            m->seq = seq;
            m->pred = p;
            m->t = t;
            m->kind = read ? EN_BND_READ : EN_BND_DONE;
            for (int64_t j = n_imm - 1; j > 0 && c->imm[j - 1].seq > c->imm[j].seq; j--) {
                en_imm tmp = c->imm[j];
                c->imm[j] = c->imm[j - 1];
                c->imm[j - 1] = tmp;
            }
        } else {
            if ((st = succ_push(c, p, (uint32_t)y | (deliv ? EN_DELIVERY : 0) | (v & EN_READ))) != CHIPEMU_OK)
                return st;
        }
        if (deliv) d->pending++;
        else o->pending++;
    }
    for (int64_t j = 0; j < n_imm && st == CHIPEMU_OK; j++) {      /* in completion order */
        const en_imm *m = &c->imm[j];
        st = deliv ? en_resolve_delivery(c, y, m->t, m->pred, m->kind) : en_resolve(c, y, m->t, m->pred, m->kind);
    }
    if (st != CHIPEMU_OK) return st;
    if (deliv) {
        d->deliv_ok = 1;
    } else {
        c->admitted++;                                       /* op entries come in log order */
        o->flags |= EN_OP_ADMITTED;
        if (o->pending == 0 && n_imm == 0) st = en_op_ready(c, y);   /* no predecessor at all */
    }
    return st;
}

/* The next entry; 0 (CHIPEMU_OK) or a status; *end = 1 when the stream is over. */
static int32_t admit_next(en_ctx *c, int *end) {
    uint32_t h, n;
    int r = next_word(c, &h);
    if (r == 0) {
        *end = 1;
        return CHIPEMU_OK;
    }
    if (r > 0) r = next_word(c, &n);
    if (r <= 0) return r < 0 ? -r : CHIPEMU_ERR_NOMEM;
    return admit_entry(c, (int32_t)(h & EN_SUCC_MASK), n, (h & EN_ENT_DELIV) != 0);
}

int32_t en_admit_op(en_ctx *c, int32_t y) {
    int end = 0;
    while (!(c->ops[y].flags & EN_OP_ADMITTED)) {
        int32_t st = admit_next(c, &end);
        if (st != CHIPEMU_OK) return st;
        if (end) return CHIPEMU_ERR_NOMEM;                   /* every op has an entry */
    }
    return CHIPEMU_OK;
}

int32_t en_admit_to(en_ctx *c, int64_t x) {
    int end = 0;
    while (c->admitted < x) {
        int32_t st = admit_next(c, &end);
        if (st != CHIPEMU_OK) return st;
        if (end) return CHIPEMU_ERR_NOMEM;                   /* every op has an entry */
    }
    return CHIPEMU_OK;
}

int32_t en_admit_deliv(en_ctx *c, int32_t z) {
    const en_dmax *d = &c->dmax[c->ops[z].aux];
    int end = 0;
    while (!d->deliv_ok) {
        int32_t st = admit_next(c, &end);
        if (st != CHIPEMU_OK) return st;
        if (end) return CHIPEMU_ERR_NOMEM;                   /* every SEND has a delivery list */
    }
    return CHIPEMU_OK;
}

int32_t en_admit_all(en_ctx *c) {
    int end = 0;
    while (!end) {
        int32_t st = admit_next(c, &end);
        if (st != CHIPEMU_OK) return st;
    }
    return CHIPEMU_OK;
}
