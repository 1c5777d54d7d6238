/* engine_queue.c — the simulation's priority queue, keyed by (cycle, rank, k3) (docs/engine.md).
 *
 * SPMD kernels make hundreds of items share a cycle, so the queue is a calendar: one unsorted
 * bucket per cycle for the EN_Q_W cycles after `now` (lists of pooled items, plus a bitmap of the
 * non-empty ones) and a heap for items beyond that window. Moving to the next cycle sorts its
 * bucket once: an MSD radix sort on a 64-bit key (rank << 32 | packet << 8 | hop) finished by
 * insertion sort, exact while packet < 2^24 and hop < 2^8 for every queued item (otherwise a
 * merge sort on the full key takes over for the rest of the run). Items pushed for the current
 * cycle (or an earlier one) after it was sorted go to a small heap that is merged while popping.
 */
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"

#define EN_Q_BITS 12
#define EN_Q_W (1 << EN_Q_BITS)
#define EN_Q_M (EN_Q_W - 1)
#define EN_Q_WORDS (EN_Q_W / 64)

static inline int less(const en_item *a, const en_item *b) {
    if (a->cycle != b->cycle) return a->cycle < b->cycle;
    if (a->rank != b->rank) return a->rank < b->rank;
    return a->k3 < b->k3;
}

int32_t en_q_init(en_queue *q) {
    memset(q, 0, sizeof *q);
    q->head = malloc(EN_Q_W * sizeof(int32_t));
    q->bits = calloc(EN_Q_WORDS, sizeof(uint64_t));
    if (q->head == NULL || q->bits == NULL) return CHIPEMU_ERR_NOMEM;
    for (int i = 0; i < EN_Q_W; i++) q->head[i] = -1;
    q->pool_free = -1;
    return CHIPEMU_OK;
}

void en_q_free(en_queue *q) {
    free(q->pool);
    free(q->pnext);
    free(q->pkey);
    free(q->head);
    free(q->bits);
    free(q->ov);
    free(q->cur);
    free(q->tmp);
    free(q->late);
    memset(q, 0, sizeof *q);
}

static int32_t slot_new(en_queue *q, const en_item *it) {
    int32_t x = q->pool_free;
    if (x >= 0) {
        q->pool_free = q->pnext[x];
    } else {
        if (q->pool_n >= INT32_MAX ||
            en_grow((void **)&q->pool, &q->pool_cap, q->pool_n + 1, sizeof(en_item)) != CHIPEMU_OK ||
            en_grow((void **)&q->pnext, &q->pnext_cap, q->pool_n + 1, sizeof(int32_t)) != CHIPEMU_OK ||
            en_grow((void **)&q->pkey, &q->pkey_cap, q->pool_n + 1, sizeof(uint64_t)) != CHIPEMU_OK)
            return -1;
        x = (int32_t)q->pool_n++;
    }
    q->pool[x] = *it;
    uint64_t pkt = it->k3 >> 16, hop = it->k3 & 0xFFFF;
    q->inexact |= pkt >= (1u << 24) || hop >= 256;
    q->pkey[x] = (uint64_t)it->rank << 32 | (uint32_t)(pkt << 8 | hop);
    return x;
}

/* ---- heaps: `late` holds pool indices, `ov` whole items ---- */

static int32_t late_push(en_queue *q, int32_t x) {
    if (en_grow((void **)&q->late, &q->late_cap, q->late_n + 1, sizeof(int32_t)) != CHIPEMU_OK)
        return CHIPEMU_ERR_NOMEM;
    int64_t i = q->late_n++;
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (!less(&q->pool[x], &q->pool[q->late[p]])) break;
        q->late[i] = q->late[p];
        i = p;
    }
    q->late[i] = x;
    return CHIPEMU_OK;
}

static int32_t late_pop(en_queue *q) {
    int32_t top = q->late[0], x = q->late[--q->late_n];
    int64_t i = 0, m = q->late_n;
    for (;;) {
        int64_t l = 2 * i + 1;
        if (l >= m) break;
        if (l + 1 < m && less(&q->pool[q->late[l + 1]], &q->pool[q->late[l]])) l++;
        if (!less(&q->pool[q->late[l]], &q->pool[x])) break;
        q->late[i] = q->late[l];
        i = l;
    }
    if (m > 0) q->late[i] = x;
    return top;
}

static int32_t ov_push(en_queue *q, const en_item *it) {
    if (en_grow((void **)&q->ov, &q->ov_cap, q->ov_n + 1, sizeof(en_item)) != CHIPEMU_OK)
        return CHIPEMU_ERR_NOMEM;
    int64_t i = q->ov_n++;
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (!less(it, &q->ov[p])) break;
        q->ov[i] = q->ov[p];
        i = p;
    }
    q->ov[i] = *it;
    return CHIPEMU_OK;
}

static void ov_pop(en_queue *q, en_item *out) {
    *out = q->ov[0];
    en_item x = q->ov[--q->ov_n];
    int64_t i = 0, m = q->ov_n;
    for (;;) {
        int64_t l = 2 * i + 1;
        if (l >= m) break;
        if (l + 1 < m && less(&q->ov[l + 1], &q->ov[l])) l++;
        if (!less(&q->ov[l], &x)) break;
        q->ov[i] = q->ov[l];
        i = l;
    }
    if (m > 0) q->ov[i] = x;
}

/* ---- the ring ---- */

static int32_t ring_push(en_queue *q, const en_item *it) {
    int32_t x = slot_new(q, it);
    if (x < 0) return CHIPEMU_ERR_NOMEM;
    uint32_t b = (uint32_t)(it->cycle & EN_Q_M);
    q->pnext[x] = q->head[b];
    q->head[b] = x;
    q->bits[b >> 6] |= 1ull << (b & 63);
    q->ring_n++;
    return CHIPEMU_OK;
}

int32_t en_q_push(en_queue *q, const en_item *it) {
    if (it->cycle <= q->now) {
        int32_t x = slot_new(q, it);
        return x < 0 ? CHIPEMU_ERR_NOMEM : late_push(q, x);
    }
    if (it->cycle - q->now < EN_Q_W) return ring_push(q, it);
    return ov_push(q, it);
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

static int cur_less(const en_queue *q, const en_qkey *a, const en_qkey *b) {
    return less(&q->pool[a->idx], &q->pool[b->idx]);
}

/* Merge sort on the full key: used once a 64-bit key was not exact. */
static int32_t sort_full(en_queue *q) {
    int64_t n = q->cur_n;
    if (en_grow((void **)&q->tmp, &q->tmp_cap, n, sizeof(en_qkey)) != CHIPEMU_OK) return CHIPEMU_ERR_NOMEM;
    en_qkey *src = q->cur, *dst = q->tmp;
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = cur_less(q, &src[j], &src[i]) ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        en_qkey *t = src;
        src = dst;
        dst = t;
    }
    if (src != q->cur) memcpy(q->cur, src, (size_t)n * sizeof(en_qkey));
    return CHIPEMU_OK;
}

static void insertion_sort(en_qkey *a, int64_t n) {
    for (int64_t i = 1; i < n; i++) {
        en_qkey v = a[i];
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
static void msd_sort(en_qkey *a, en_qkey *tmp, int64_t n, int shift) {
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
        memcpy(a, tmp, (size_t)n * sizeof(en_qkey));
        for (int d = 0; d < 256; d++)
            if (cnt[d + 1] - cnt[d] > 32) msd_sort(a + cnt[d], tmp + cnt[d], cnt[d + 1] - cnt[d], shift - 8);
        return;
    }
}

static int32_t sort_cur(en_queue *q) {
    int64_t n = q->cur_n;
    if (q->inexact) return sort_full(q);
    if (n <= 32) {
        insertion_sort(q->cur, n);
        return CHIPEMU_OK;
    }
    if (en_grow((void **)&q->tmp, &q->tmp_cap, n, sizeof(en_qkey)) != CHIPEMU_OK) return CHIPEMU_ERR_NOMEM;
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

static inline int32_t cur_add(en_queue *q, int32_t x) {
    if (q->cur_n == q->cur_cap &&
        en_grow((void **)&q->cur, &q->cur_cap, q->cur_n + 1, sizeof(en_qkey)) != CHIPEMU_OK)
        return CHIPEMU_ERR_NOMEM;
    q->cur[q->cur_n].key = q->pkey[x];
    q->cur[q->cur_n].idx = x;
    q->cur_n++;
    return CHIPEMU_OK;
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
    for (int32_t x = q->head[b]; x >= 0; x = q->pnext[x]) {
        if (cur_add(q, x) != CHIPEMU_OK) return -1;
        q->ring_n--;
    }
    q->head[b] = -1;
    q->bits[b >> 6] &= ~(1ull << (b & 63));
    while (q->ov_n > 0 && q->ov[0].cycle - q->now < EN_Q_W) {
        en_item it;
        ov_pop(q, &it);
        if (it.cycle == q->now) {
            int32_t x = slot_new(q, &it);
            if (x < 0 || cur_add(q, x) != CHIPEMU_OK) return -1;
        } else if (ring_push(q, &it) != CHIPEMU_OK) {
            return -1;
        }
    }
    return sort_cur(q) == CHIPEMU_OK ? 1 : -1;
}

/* 1: *it is the smallest item; 0: empty; -1: out of memory. */
int en_q_pop(en_queue *q, en_item *it) {
    if (q->cur_pos == q->cur_n && q->late_n == 0) {
        int r = advance(q);
        if (r <= 0) return r;
    }
    int32_t x;
    if (q->late_n > 0 &&
        (q->cur_pos == q->cur_n || less(&q->pool[q->late[0]], &q->pool[q->cur[q->cur_pos].idx])))
        x = late_pop(q);
    else
        x = (int32_t)q->cur[q->cur_pos++].idx;
    *it = q->pool[x];
    q->pnext[x] = q->pool_free;
    q->pool_free = x;
    return 1;
}
