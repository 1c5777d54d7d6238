/* engine/walk.h — the hazard walk's state, shared by hazard.c (interval maps, entries,
 * the walk) and walk.c (its setup and the barrier fences). Not public API. */
#ifndef CHIPEMU_ENGINE_WALK_H
#define CHIPEMU_ENGINE_WALK_H

#include "engine/internal.h"

typedef struct { uint64_t lo, hi; int32_t writer, rd; } seg;
typedef struct { seg *s; uint32_t n, cap; } segvec;
typedef struct { int32_t op, next, ref, unit; } rnode;
typedef struct { int32_t rank, next; } fnode;

typedef struct en_walk {
    en_ctx *c;                       /* a private copy of the context's read-only fields */
    en_ctx cx;
    chipemu_engine_error *err;       /* the walk's own error record */
    en_stream *es;
    int threaded;
    segvec *mem;
    int64_t n_mem;
    rnode *rn;
    int64_t n_rn, cap_rn;
    int32_t free_rn;
    int32_t cur_op, n_cur;           /* the dedup window: its successor, ... */
    int32_t cur[32];                 /* ... preds already linked to it ... */
    uint32_t *cur_loc[32];           /* ... and their words in the stream (unpublished) */
    uint64_t win_start;              /* stream position of cur_op's first entry */
    uint64_t entry_start;            /* the open entry: start, count word, count */
    uint32_t *count_loc;
    uint32_t count;
    int32_t implied;                 /* a pred whose edge unit order implies (not written) */
    uint32_t dropped;                /* where the window points for it */
    int32_t *mvm_last;               /* [tile * E + engine]: the engine's latest MVM (rank) */
    int32_t st;                      /* sticky status */
    int64_t x;                       /* next log index */
    int64_t n_edges;
    uint32_t *rc;                    /* [n_tiles] rank cursors */
    int64_t *sends;                  /* this superstep's SENDs: log index << 32 | rank */
    int64_t n_sends, cap_sends;
    int32_t *cur_bar, *gated;        /* barriers: a tile's latest; linked per (tile, unit) */
    int32_t *fence_last;             /* [tile * U + unit]: last op since the tile's barrier */
    int32_t *fence_dma;              /* [tile]: DMA ops since the tile's barrier (fnode list) */
    uint32_t *bar_left;              /* [tile]: barriers still to come */
    fnode *fn;
    int64_t n_fn, cap_fn;
    int32_t free_fn;
    int done;
} haz;

int32_t en_walk_fail(haz *h, int32_t status, int32_t code, int32_t field, int64_t value, int64_t limit);

static inline void en_walk_put(haz *h, uint32_t w, uint32_t **loc) {
    en_stream *s = h->es;
    if (__builtin_expect(s->wi == EN_SEG_WORDS, 0) && en_stream_grow(s) != CHIPEMU_OK) {
        h->st = CHIPEMU_ERR_NOMEM;                          /* wi stays at the end: nothing written */
        return;
    }
    uint32_t *p = &s->wseg->w[s->wi++];
    *p = w;
    s->written++;
    if (loc != NULL) *loc = p;
}

void en_walk_fence(haz *h, uint32_t t);
void en_walk_fence_note(haz *h, const chipemu_event *e, uint32_t t, int32_t r);

#endif /* CHIPEMU_ENGINE_WALK_H */
