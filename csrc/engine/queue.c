/* engine/queue.c — the simulation's priority queue, keyed by (cycle, rank, packet, hop).
 *
 * SPMD kernels make hundreds of items share a cycle, so the queue is a calendar: one bucket per
 * cycle for the EN_Q_W cycles after `now` (chunks of 16-byte entries appended in push order, plus a
 * bitmap of the non-empty buckets) and a heap for items beyond that window. Moving to the next cycle
 * gathers its bucket and sorts it once: an MSD radix sort on the 64-bit key rank << 32 | packet <<
 * hop_bits | hop, finished by insertion sort. The key is exact when packet and hop fit the low 32
 * bits for every op of the log (the engine checks before simulating); otherwise ("wide") the key
 * holds the rank only and ties are broken by the packet slots' fields with a merge sort. Items
 * pushed for the current cycle after it was sorted go to a small heap merged while popping.
 * Keys are unique, so the order items leave in never depends on the order they were pushed in.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define EN_Q_WORDS (EN_Q_W / 64)

/* (pkt, hop) of an entry: from its packet slot; compute ops have (0, 0) */
static inline int tie_less(const en_queue *q, uint32_t ra, uint32_t rb) {
    uint64_t pa = 0, pb = 0;
    uint32_t ha = 0, hb = 0;
    if (ra & EN_REF_PKT) pa = q->pk[ra & ~EN_REF_PKT].pkt, ha = q->pk[ra & ~EN_REF_PKT].hop;
    if (rb & EN_REF_PKT) pb = q->pk[rb & ~EN_REF_PKT].pkt, hb = q->pk[rb & ~EN_REF_PKT].hop;
    return pa != pb ? pa < pb : ha < hb;
}

static inline int qe_less(const en_queue *q, const en_qe *a, const en_qe *b) {
    if (a->key != b->key) return a->key < b->key;
    return q->wide && tie_less(q, a->ref, b->ref);
}

static inline int qc_less(const en_queue *q, const en_qc *a, const en_qc *b) {
    if (a->cycle != b->cycle) return a->cycle < b->cycle;
    if (a->key != b->key) return a->key < b->key;
    return q->wide && tie_less(q, a->ref, b->ref);
}

int32_t en_q_init(en_queue *q, int hop_bits, int wide, const en_pkt *pk) {
    memset(q, 0, sizeof *q);
    q->hop_bits = hop_bits;
    q->wide = wide;
    q->pk = pk;
    q->ch_free = -1;
    q->head = malloc(EN_Q_W * sizeof(int32_t));
    q->tail = malloc(EN_Q_W * sizeof(int32_t));
    q->bits = calloc(EN_Q_WORDS, sizeof(uint64_t));
    if (q->head == NULL || q->tail == NULL || q->bits == NULL) return CHIPEMU_ERR_NOMEM;
    for (int i = 0; i < EN_Q_W; i++) q->head[i] = q->tail[i] = -1;
    return CHIPEMU_OK;
}

void en_q_free(en_queue *q) {
    free(q->ch);
    free(q->head);
    free(q->tail);
    free(q->bits);
    free(q->cur);
    free(q->tmp);
    free(q->late);
    free(q->ov);
    memset(q, 0, sizeof *q);
}

/* ---- heaps of en_qc: `late` (the current cycle) and `ov` (beyond the window) ---- */

static int32_t heap_push(const en_queue *q, en_qc **h, int64_t *n, int64_t *cap, const en_qc *x) {
    if (en_grow((void **)h, cap, *n + 1, sizeof(en_qc)) != CHIPEMU_OK) return CHIPEMU_ERR_NOMEM;
    en_qc *a = *h;
    int64_t i = (*n)++;
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (!qc_less(q, x, &a[p])) break;
        a[i] = a[p];
        i = p;
    }
    a[i] = *x;
    return CHIPEMU_OK;
}

static void heap_pop(const en_queue *q, en_qc *h, int64_t *n, en_qc *out) {
    *out = h[0];
    en_qc x = h[--*n];
    int64_t i = 0, m = *n;
    for (;;) {
        int64_t l = 2 * i + 1;
        if (l >= m) break;
        if (l + 1 < m && qc_less(q, &h[l + 1], &h[l])) l++;
        if (!qc_less(q, &h[l], &x)) break;
        h[i] = h[l];
        i = l;
    }
    if (m > 0) h[i] = x;
}

/* ---- the ring ---- */

static int32_t ring_push(en_queue *q, int64_t cycle, uint64_t key, uint32_t ref) {
    uint32_t b = (uint32_t)(cycle & EN_Q_M);
    int32_t t = q->tail[b];
    if (t < 0 || q->ch[t].n == EN_Q_CHUNK) {
        int32_t k = q->ch_free;
        if (k >= 0) {
            q->ch_free = q->ch[k].next;
        } else {
            if (q->ch_n >= INT32_MAX ||
                en_grow((void **)&q->ch, &q->ch_cap, q->ch_n + 1, sizeof(en_qchunk)) != CHIPEMU_OK)
                return CHIPEMU_ERR_NOMEM;
            k = (int32_t)q->ch_n++;
        }
        q->ch[k].next = -1;
        q->ch[k].n = 0;
        if (t < 0) {
            q->head[b] = k;
            q->bits[b >> 6] |= 1ull << (b & 63);
        } else {
            q->ch[t].next = k;
        }
        q->tail[b] = t = k;
    }
    en_qe *e = &q->ch[t].e[q->ch[t].n++];
    e->key = key;
    e->ref = ref;
    e->pad = 0;
    q->ring_n++;
    return CHIPEMU_OK;
}

int32_t en_q_push_slow(en_queue *q, int64_t cycle, uint64_t key, uint32_t ref) {
    if (cycle - q->now < EN_Q_W && cycle > q->now) return ring_push(q, cycle, key, ref);
    en_qc x = {cycle, key, ref, 0};
    if (cycle <= q->now) return heap_push(q, &q->late, &q->late_n, &q->late_cap, &x);
    return heap_push(q, &q->ov, &q->ov_n, &q->ov_cap, &x);
}

/* First non-empty bucket at or after b (circular); requires ring_n > 0. */
static uint32_t next_bucket(const en_queue *q, uint32_t b) {
    uint32_t w = b >> 6;
    uint64_t m = q->bits[w] & (~0ull << (b & 63));
    for (uint32_t k = 0; k <= EN_Q_WORDS; k++) {
        if (m) return ((w << 6) | (uint32_t)__builtin_ctzll(m)) & EN_Q_M;
        w = (w + 1) % EN_Q_WORDS;
        m = q->bits[w];
    }
    return b;                                                /* not reached */
}

/* ---- sorting the current cycle ---- */

/* Merge sort with the full comparison: for wide keys. */
static void sort_full(en_queue *q) {
    int64_t n = q->cur_n;
    en_qe *src = q->cur, *dst = q->tmp;
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = qe_less(q, &src[j], &src[i]) ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        en_qe *t = src;
        src = dst;
        dst = t;
    }
    if (src != q->cur) memcpy(q->cur, src, (size_t)n * sizeof(en_qe));
}

static void insertion_sort(en_qe *a, int64_t n) {
    for (int64_t i = 1; i < n; i++) {
        en_qe v = a[i];
        int64_t j = i;
        while (j > 0 && a[j - 1].key > v.key) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* MSD radix partition by the byte at `shift`, recursing into ranges of more than 32 items; the
 * caller's final insertion sort orders the small ranges (they are already in place). */
static void msd_sort(en_qe *a, en_qe *tmp, int64_t n, int shift) {
    while (n > 32 && shift >= 0) {
        int64_t cnt[257];
        memset(cnt, 0, sizeof cnt);
        for (int64_t i = 0; i < n; i++) cnt[((a[i].key >> shift) & 0xFF) + 1]++;
        int single = 0;
        for (int d = 0; d < 256; d++) {
            single |= cnt[d + 1] == n;
            cnt[d + 1] += cnt[d];
        }
        if (single) {                                        /* one digit value: next byte */
            shift -= 8;
            continue;
        }
        int64_t pos[256];
        memcpy(pos, cnt, sizeof pos);
        for (int64_t i = 0; i < n; i++) tmp[pos[(a[i].key >> shift) & 0xFF]++] = a[i];
        memcpy(a, tmp, (size_t)n * sizeof(en_qe));
        for (int d = 0; d < 256; d++)
            if (cnt[d + 1] - cnt[d] > 32) msd_sort(a + cnt[d], tmp + cnt[d], cnt[d + 1] - cnt[d], shift - 8);
        return;
    }
}

static int32_t sort_cur(en_queue *q) {
    int64_t n = q->cur_n;
    if (n > 32 || q->wide) {
        if (en_grow((void **)&q->tmp, &q->tmp_cap, n, sizeof(en_qe)) != CHIPEMU_OK) return CHIPEMU_ERR_NOMEM;
    }
    if (q->wide) {
        sort_full(q);
        return CHIPEMU_OK;
    }
    if (n <= 32) {
        insertion_sort(q->cur, n);
        return CHIPEMU_OK;
    }
    uint64_t or_all = 0, and_all = ~0ull;
    for (int64_t i = 0; i < n; i++) {
        or_all |= q->cur[i].key;
        and_all &= q->cur[i].key;
    }
    uint64_t diff = or_all ^ and_all;
    if (diff == 0) return CHIPEMU_OK;
    int hb = 63 - __builtin_clzll(diff);
    msd_sort(q->cur, q->tmp, n, hb >= 7 ? hb - 7 : 0);
    insertion_sort(q->cur, n);                               /* ranges of <= 32 left unsorted */
    return CHIPEMU_OK;
}

static inline int32_t cur_reserve(en_queue *q, int64_t more) {
    if (q->cur_n + more <= q->cur_cap) return CHIPEMU_OK;
    return en_grow((void **)&q->cur, &q->cur_cap, q->cur_n + more, sizeof(en_qe));
}

/* Move to the next cycle that has items and sort them; 0 when the queue is empty. */
static int advance(en_queue *q) {
    int64_t next = INT64_MAX;
    if (q->ring_n > 0) {
        uint32_t b0 = (uint32_t)((q->now + 1) & EN_Q_M);
        uint32_t b = next_bucket(q, b0);
        next = q->now + 1 + (int64_t)((b - b0) & EN_Q_M);
    }
    if (q->ov_n > 0 && q->ov[0].cycle < next) next = q->ov[0].cycle;
    if (next == INT64_MAX) return 0;
    q->now = next;
    q->cur_n = q->cur_pos = 0;
    uint32_t b = (uint32_t)(next & EN_Q_M);
    for (int32_t k = q->head[b]; k >= 0;) {
        en_qchunk *ch = &q->ch[k];
        if (cur_reserve(q, ch->n) != CHIPEMU_OK) return -1;
        memcpy(q->cur + q->cur_n, ch->e, (size_t)ch->n * sizeof(en_qe));
        q->cur_n += ch->n;
        q->ring_n -= ch->n;
        int32_t next_k = ch->next;
        ch->next = q->ch_free;
        q->ch_free = k;
        k = next_k;
    }
    q->head[b] = q->tail[b] = -1;
    q->bits[b >> 6] &= ~(1ull << (b & 63));
    while (q->ov_n > 0 && q->ov[0].cycle - q->now < EN_Q_W) {
        en_qc it;
        heap_pop(q, q->ov, &q->ov_n, &it);
        if (it.cycle == q->now) {
            if (cur_reserve(q, 1) != CHIPEMU_OK) return -1;
            q->cur[q->cur_n].key = it.key;
            q->cur[q->cur_n].ref = it.ref;
            q->cur[q->cur_n++].pad = 0;
        } else if (ring_push(q, it.cycle, it.key, it.ref) != CHIPEMU_OK) {
            return -1;
        }
    }
    return sort_cur(q) == CHIPEMU_OK ? 1 : -1;
}

int en_q_pop_slow(en_queue *q, en_qc *out) {
    if (q->cur_pos == q->cur_n && q->late_n == 0) {
        int r = advance(q);
        if (r <= 0) return r;
    }
    if (q->late_n > 0) {
        en_qc c;
        int take_late = q->cur_pos == q->cur_n;
        if (!take_late) {
            c.cycle = q->now;
            c.key = q->cur[q->cur_pos].key;
            c.ref = q->cur[q->cur_pos].ref;
            take_late = qc_less(q, &q->late[0], &c);
        }
        if (take_late) {
            heap_pop(q, q->late, &q->late_n, out);
            return 1;
        }
    }
    const en_qe *e = &q->cur[q->cur_pos++];
    out->cycle = q->now;
    out->key = e->key;
    out->ref = e->ref;
    return 1;
}
