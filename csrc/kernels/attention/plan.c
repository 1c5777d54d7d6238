/* kernels/attention/plan.c — the attention planner: shapes, a mask's bias count and a device in,
 * a plan out.
 *
 * The one definition of the rules of docs/attention.md (units, key blocks, members, replicas,
 * chunks, buffers); Python's kernels/attention/plan.py checks its arguments, resolves a region,
 * calls chipemu_attention_plan_region (its mask_info as the n_bias callback) and derives the
 * positions and the block status from the fields. */
#include <stdlib.h>
#include <string.h>

#include "chipemu_host.h"
#include "host/plan.h"
#include "kernels/attention/mask.h"
#include "runtime/error.h"


int64_t chipemu_attention_mask_bias(void *ctx, int64_t mq, int64_t members, int64_t bpt,
                                    int64_t replicas) {
    /* data.mask_info: per (member, replica), the distinct bias blocks of its partial blocks
     * (a unit's blocks j = member, member + members, ...; the chunks zigzag over the replicas);
     * the most of any pair. The mask does not depend on the unit. */
    (void)bpt;
    const chipemu_attention_mask *k = ctx;
    if (k == NULL || mq < 1 || members < 1 || replicas < 1 || k->bk < 1 || k->sq < 1
        || k->skv < 1 || k->nq < 1)
        return -1;
    int64_t chunks = cdiv(k->nq, mq), kb = cdiv(k->skv, k->bk), most = 0;
    int64_t cap = chunks * cdiv(kb, members) + 1;
    int64_t *seen = malloc(sizeof(int64_t) * 2 * (size_t)cap);
    if (seen == NULL) return -1;
    for (int64_t rep = 0; rep < replicas; rep++)
        for (int64_t mem = 0; mem < members && mem < kb; mem++) {
            int64_t n = 0;
            for (int64_t c = 0; c < chunks; c++) {
                int64_t rnd = c / replicas, i = c % replicas;
                if ((rnd % 2 == 0 ? i : replicas - 1 - i) != rep) continue;
                for (int64_t j = mem; j < kb; j += members) {
                    if (mask_status(k, mq, c, j) != 2) continue;
                    int64_t s = 0;
                    while (s < n && !mask_same(k, mq, seen[2 * s], seen[2 * s + 1], c, j)) s++;
                    if (s == n) seen[2 * n] = c, seen[2 * n + 1] = j, n++;
                }
            }
            most = n > most ? n : most;
        }
    free(seen);
    return most;
}

int32_t chipemu_attention_plan_region(const chipemu_device_params *p, const int64_t shape[6],
                                      int32_t fmt, int32_t kv_fmt, int64_t mq_in,
                                      int64_t max_replicas, int32_t force_path, int32_t kv_home,
                                      int64_t chiplets, int64_t tiles, int64_t slots,
                                      chipemu_attention_bias_fn bias, void *bias_ctx,
                                      chipemu_attention_plan *out) {
    if (p == NULL || out == NULL || shape == NULL)
        return rt_fail(CHIPEMU_ERR_NULL, "chipemu_attention_plan: %s is NULL",
                       p == NULL ? "params" : out == NULL ? "out" : "shape");
    static const char *names[6] = {"batch", "heads", "kv_heads", "seq", "kv_len", "head_dim"};
    for (int i = 0; i < 6; i++)
        if (shape[i] < 1 || shape[i] >= ((int64_t)1 << 31))
            return rt_fail(CHIPEMU_ERR_SIZE, "%s=%lld must be an integer >= 1", names[i],
                           (long long)shape[i]);
    int64_t b = shape[0], hq = shape[1], hkv = shape[2], sq = shape[3], skv = shape[4], d = shape[5];
    if (hq % hkv)
        return rt_fail(CHIPEMU_ERR_SIZE, "heads=%lld is not a multiple of kv_heads=%lld "
                       "(grouped-query attention needs Hq %% Hkv == 0)", (long long)hq,
                       (long long)hkv);
    chipemu_format_info f, kf;
    int32_t fc[2] = {fmt, kv_fmt};
    const char *fn[2] = {"fmt", "kv_fmt"};
    for (int i = 0; i < 2; i++)
        if (chipemu_format_info_get(fc[i], i ? &kf : &f) != CHIPEMU_OK
            || !((CHIPEMU_DIMC_FORMAT_MASK >> fc[i]) & 1))
            return rt_fail(CHIPEMU_ERR_UNSUPPORTED, "%s=%d is not a DIMC format; allowed: the "
                           "CHIPEMU_FMT_* codes of CHIPEMU_DIMC_FORMAT_MASK", fn[i], (int)fc[i]);
    if (max_replicas < 1 || max_replicas > CHIPEMU_AT_MAX_REPLICAS || mq_in < 0 || force_path < -1
        || force_path > 1 || kv_home < 0 || kv_home > 1 || chiplets < 1 || tiles < 1 || slots < 1)
        return rt_fail(CHIPEMU_ERR_SIZE, "chipemu_attention_plan: max_replicas=%lld (1..%d), "
                       "mq=%lld (0: auto), force_path=%d (-1, 0, 1), kv_home=%d (0, 1), region "
                       "%lld x %lld x %lld slots (each >= 1)", (long long)max_replicas,
                       CHIPEMU_AT_MAX_REPLICAS, (long long)mq_in, (int)force_path, (int)kv_home,
                       (long long)chiplets, (long long)tiles, (long long)slots);
    int64_t T = chiplets * tiles, cap = (int64_t)p->sram_capacity_bytes;
    int64_t R = p->dimc_rows, C = chipemu_cols_eff(p->dimc_cols, p->dimc_cell_bits, kf.elem_bits);
    if (C != R)
        return rt_fail(CHIPEMU_ERR_UNSUPPORTED, "kv_fmt='%s': a K/V array holds %lld columns of "
                       "it but %lld rows; the online softmax needs square arrays (use an 8-bit "
                       "kv_fmt)", chipemu_format_name(kv_fmt), (long long)C, (long long)R);
    chipemu_attention_plan pl;
    memset(&pl, 0, sizeof pl);
    int64_t bk = R, units = b * hkv, group = hq / hkv;
    int64_t kb = cdiv(skv, bk), nq = group * sq;
    int64_t dp = cdiv(d, R) * R, ds = dp / R, vs = cdiv(dp, C);
    /* the DIMC when every unit's blocks fit the slots of the tiles; else the vector unit, with
     * K and V^T in fp32 in SRAM (half of it at most per tile) */
    int64_t bpt = slots / (ds + vs);
    if (kv_home == 1) {                  /* one block resident: members spread over the channels */
        if (bpt < 1)
            return rt_fail(CHIPEMU_ERR_CAPACITY, "head_dim=%lld: one key block needs %lld DIMC "
                           "slots, a tile has %lld", (long long)d, (long long)(ds + vs),
                           (long long)slots);
        int64_t chans = chiplets * (int64_t)p->dram_channels;
        bpt = cdiv(kb, max64(1, min64(min64(kb, cdiv(chans, units)), T / units)));
        max_replicas = 1;
    }
    int32_t path = bpt >= 1 && units * cdiv(kb, bpt) <= T ? 0 : 1;
    if (force_path >= 0) path = force_path;
    if (path == 1) {
        dp = d, ds = 1, vs = 1, C = d;
        bpt = max64(1, (cap / 2) / (2 * bk * d * 4));
    } else if (bpt < 1) {
        return rt_fail(CHIPEMU_ERR_CAPACITY, "head_dim=%lld: one key block needs %lld DIMC slots, "
                       "a tile has %lld", (long long)d, (long long)(ds + vs), (long long)slots);
    }
    int64_t members = cdiv(kb, bpt);
    bpt = cdiv(kb, members);                     /* spread the blocks evenly */
    int64_t span = units * members;
    if (span > T)
        return rt_fail(CHIPEMU_ERR_CAPACITY, "attention needs %lld tiles (%lld (batch, kv head) "
                       "units x %lld tiles for %lld keys of head_dim %lld), the device has %lld",
                       (long long)span, (long long)units, (long long)members, (long long)skv,
                       (long long)d, (long long)T);
    int64_t qrb, prb, sb;
    if (path == 1) {
        qrb = d * 4, prb = 0, sb = bk * d * 4;
    } else {
        qrb = core_row_bytes(&f, R), prb = core_row_bytes(&f, bk), sb = core_weight_bytes(&kf, R, C);
    }
    int64_t mq = mq_in;
    if (mq == 0)         /* two rounds of chunks over up to max_replicas copies, 32..256 rows */
        mq = min64(min64(nq, 256), max64(32, cdiv(nq, 2 * max64(1, min64(max_replicas, T / span)))));
    int64_t s[CHIPEMU_AT_BUFFERS], chunks, replicas, n_bias;
    for (;;) {
        chunks = cdiv(nq, mq);
        replicas = max64(1, min64(min64(max_replicas, T / span), chunks));
        int64_t rounds = cdiv(chunks, replicas);
        n_bias = bias ? bias(bias_ctx, mq, members, bpt, replicas) : (skv % bk == 0 ? 0 : 1);
        if (n_bias < 0)
            return rt_fail(CHIPEMU_ERR_SIZE, "chipemu_attention_plan: the mask's bias count "
                           "failed (%lld)", (long long)n_bias);
        int64_t part = (2 * mq + vs * mq * C) * 4;
        s[0] = up(path == 0 ? sb * (kv_home == 1 ? ds + vs : 1) : 2 * bpt * sb);   /* w */
        s[1] = up(rounds * ds * mq * qrb);                                        /* q */
        s[2] = up(mq * bk * 4);                                                   /* s */
        s[3] = prb ? up(mq * prb) : 0;                                            /* p */
        s[4] = up(part);                                                          /* part */
        s[5] = up(5 * mq * 4);                                                    /* vec */
        s[6] = members > 1 ? up(part) : 0;                                        /* recv */
        s[7] = up(rounds * vs * mq * C * 4);                                      /* y */
        s[8] = up(max64(1, n_bias) * mq * bk * 4);                                /* bias */
        s[9] = up(3 * mq * 4);                                                    /* const */
        int64_t sum = 0;
        for (int i = 0; i < CHIPEMU_AT_BUFFERS; i++) sum += s[i];
        if (sum <= cap || mq == 1) {
            if (sum > cap)
                return rt_fail(CHIPEMU_ERR_CAPACITY, "attention buffers need %lld bytes of SRAM "
                               "per tile ({'w': %lld, 'q': %lld, 's': %lld, 'p': %lld, 'part': "
                               "%lld, 'vec': %lld, 'recv': %lld, 'y': %lld, 'bias': %lld, "
                               "'const': %lld}), a tile has %lld", (long long)sum,
                               (long long)s[0], (long long)s[1], (long long)s[2], (long long)s[3],
                               (long long)s[4], (long long)s[5], (long long)s[6], (long long)s[7],
                               (long long)s[8], (long long)s[9], (long long)cap);
            break;
        }
        mq = max64(1, mq / 2);
    }
    pl.path = path, pl.kv_home = kv_home;
    pl.b = b, pl.hq = hq, pl.hkv = hkv, pl.sq = sq, pl.skv = skv, pl.d = d;
    pl.fmt = fmt, pl.kv_fmt = kv_fmt;
    pl.rows = R, pl.cols = C, pl.bk = bk, pl.dp = dp, pl.d_splits = ds, pl.v_splits = vs;
    pl.kb = kb, pl.units = units, pl.group = group, pl.nq = nq, pl.members = members;
    pl.blocks_per_tile = bpt, pl.replicas = replicas, pl.span = span, pl.mq = mq;
    pl.chunks = chunks, pl.levels = log2up(members);
    pl.q_row_bytes = qrb, pl.p_row_bytes = prb, pl.slot_bytes = sb, pl.n_bias = n_bias;
    memcpy(pl.sram_bytes, s, sizeof s);
    pl.slots = slots;
    *out = pl;
    return CHIPEMU_OK;
}

int32_t chipemu_attention_plan_make(const chipemu_device *dev, const int64_t shape[6], int32_t mask,
                                    int32_t fmt, int32_t kv_fmt, chipemu_attention_plan *out) {
    const chipemu_device_params *p = chipemu_device_params_of(dev);
    if (p == NULL || shape == NULL)
        return rt_fail(CHIPEMU_ERR_NULL, "chipemu_attention_plan_make: %s is NULL",
                       p == NULL ? "dev" : "shape");
    if (mask != CHIPEMU_MASK_NONE && mask != CHIPEMU_MASK_CAUSAL)
        return rt_fail(CHIPEMU_ERR_SIZE, "mask=%d; allowed: CHIPEMU_MASK_NONE (0) or "
                       "CHIPEMU_MASK_CAUSAL (1)", (int)mask);
    chipemu_attention_mask m = {mask, shape[3], shape[4], p->dimc_rows,
                                shape[2] > 0 ? shape[1] / shape[2] * shape[3] : 0};
    return chipemu_attention_plan_region(p, shape, fmt, kv_fmt, 0, CHIPEMU_AT_MAX_REPLICAS, -1, 0,
                                         p->n_chiplets, (int64_t)p->tile_rows * p->tile_cols,
                                         p->dimc_slots, chipemu_attention_mask_bias, &m, out);
}
