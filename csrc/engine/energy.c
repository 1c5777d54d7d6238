/* engine/energy.c — the energy function (docs/engine.md "Energy").
 *
 * This is the ONE place energy is computed: each event's actions (MACs, bits, element ops, ...)
 * times their integer femtojoules per action. Every action cost is an integer, so every breakdown —
 * per event, tile, chiplet, component, op kind — is an exact integer sum of the same products and
 * they all add up to the same total. Static energy is rounded once per bucket (tile, chiplet, card)
 * and belongs to no event.
 *
 * Every product and sum is checked: int64 femtojoules hold 9.2 kJ, and a run beyond that fails
 * with CHIPEMU_EE_TOO_LARGE (field CHIPEMU_TOO_LARGE_ENERGY; value: at least how many joules,
 * limit: the joules int64 fJ hold) instead of a wrapped figure. An event whose own energy does not
 * fit names that event; a total that does not fit (the sum of many events, or static energy)
 * names none (-1), so the error is the same whatever the thread count.
 *
 * Dynamic energy depends only on the log, so en_energy_events runs while the log is validated (on
 * the worker thread when there is one); parts of the log accumulate separately and are merged in
 * order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define FJ_PER_J 1e15

/* Checked int64 arithmetic on energies (all >= 0): on overflow the result saturates at INT64_MAX
 * and *over keeps the largest figure that did not fit (in fJ, as a double) for the error. */
static inline int64_t cmul(int64_t a, int64_t b, double *over) {
    int64_t r;
    if (!__builtin_mul_overflow(a, b, &r)) return r;
    double f = (double)a * (double)b;
    if (f > *over) *over = f;
    return INT64_MAX;
}

static inline int64_t cadd(int64_t a, int64_t b, double *over) {
    int64_t r;
    if (!__builtin_add_overflow(a, b, &r)) return r;
    double f = (double)a + (double)b;
    if (f > *over) *over = f;
    return INT64_MAX;
}

/* a x b x m / d exactly (a 128-bit intermediate: a < 2^63 and b x m < 2^32), checked. */
static inline int64_t cmuldiv(int64_t a, int64_t b, int64_t m, int64_t d, double *over) {
    __int128 r = (__int128)a * b * m / d;
    if (r <= INT64_MAX) return (int64_t)r;
    if ((double)r > *over) *over = (double)r;
    return INT64_MAX;
}

/* The TOO_LARGE error of a figure `over` fJ (event -1: a total, not one event's). */
static int32_t too_large(en_ctx *c, int64_t event, double over) {
    double j = ceil(over / FJ_PER_J);
    int64_t v = j < 9.2e18 ? (int64_t)j : INT64_MAX;
    return en_fail(c, CHIPEMU_ERR_LOG, event, CHIPEMU_EE_TOO_LARGE, CHIPEMU_TOO_LARGE_ENERGY, v,
                   (int64_t)(INT64_MAX / FJ_PER_J));
}

/* action kinds: the cost table's index */
#define A_MAC 0                                    /* + fmt * NUM_FORMATS + fmt2 */
#define A_OVERHEAD (CHIPEMU_NUM_FORMATS * CHIPEMU_NUM_FORMATS)
#define A_ROW_WRITE (A_OVERHEAD + 1)
#define A_SRAM_READ (A_OVERHEAD + 2)               /* per bit */
#define A_SRAM_WRITE (A_OVERHEAD + 3)              /* per bit */
#define A_NOC (A_OVERHEAD + 4)                     /* per bit-hop */
#define A_DRAM (A_OVERHEAD + 5)                    /* per bit */
#define A_HOST (A_OVERHEAD + 6)                    /* per bit */
#define A_VEC (A_OVERHEAD + 7)                     /* + vop: per element */
_Static_assert(A_VEC + CHIPEMU_VOP_COUNT <= CHIPEMU_NUM_FORMATS * CHIPEMU_NUM_FORMATS + 8 + CHIPEMU_VOP_COUNT,
               "cost table");

int32_t en_energy_init(const en_ctx *c, en_energy_acc *a) {
    const chipemu_device_params *p = c->p;
    memset(a, 0, sizeof *a);
    a->by_tile = en_calloc((size_t)c->n_tiles + 1, sizeof(int64_t));
    if (a->by_tile == NULL) return CHIPEMU_ERR_NOMEM;
    if (p->noc_multicast == CHIPEMU_MCAST_TREE &&
        (a->scratch = malloc(EN_MC_SCRATCH * sizeof(uint64_t))) == NULL)
        return CHIPEMU_ERR_NOMEM;
    for (int f = 0; f < CHIPEMU_NUM_FORMATS; f++)
        for (int w = 0; w < CHIPEMU_NUM_FORMATS; w++)
            a->cost[A_MAC + f * CHIPEMU_NUM_FORMATS + w] = p->fj_mac[f] * c->elem_bits[w] / 8;
    a->cost[A_OVERHEAD] = p->fj_overhead_per_mac;
    a->cost[A_ROW_WRITE] = p->fj_dimc_row_write;
    a->cost[A_SRAM_READ] = p->fj_sram_read_bit;
    a->cost[A_SRAM_WRITE] = p->fj_sram_write_bit;
    a->cost[A_NOC] = p->fj_noc_bit_hop;
    a->cost[A_DRAM] = p->fj_dram_bit;
    a->cost[A_HOST] = p->fj_host_bit;
    for (int k = 0; k < CHIPEMU_VOP_COUNT; k++) a->cost[A_VEC + k] = p->fj_vec_op[k];
    return CHIPEMU_OK;
}

void en_energy_free(en_energy_acc *a) {
    free(a->by_tile);
    free(a->scratch);
    a->by_tile = NULL;
    a->scratch = NULL;
}

static inline uint32_t absdiff(uint32_t a, uint32_t b) { return a > b ? a - b : b - a; }

/* NoC hops between two local tiles of a chiplet (XY routing takes the Manhattan distance). */
static inline int64_t mesh_hops(const en_ctx *c, uint32_t a, uint32_t b) {
    uint32_t cols = c->p->tile_cols;
    return absdiff(a / cols, b / cols) + absdiff(a % cols, b % cols);
}

/* NoC and D2D energy of one stream of `bits` from global tile `from` to `to` (the route of
 * docs/engine.md: XY to the PHY of the next link on the chiplet route, the link, and on). */
static void route_energy(const en_ctx *c, uint32_t from, uint32_t to, int64_t bits, int64_t fj_hop,
                         int64_t *noc, int64_t *d2d, double *over) {
    uint32_t T = c->T, ch = from / T, cht = to / T;
    int64_t hops = 0;
    while (ch != cht) {
        int32_t l = c->next_link[(size_t)ch * c->C + cht];
        if (l < 0) return;                                   /* validated: not reached */
        const chipemu_link *k = &c->p->links[l];
        int from_a = k->a == ch;
        hops += mesh_hops(c, from - ch * T, from_a ? k->phy_a : k->phy_b);   /* < 2^25 x 4096 */
        *d2d = cadd(*d2d, cmul(bits, k->fj_per_bit, over), over);
        ch = from_a ? k->b : k->a;
        from = ch * T + (from_a ? k->phy_b : k->phy_a);
    }
    hops += mesh_hops(c, from - ch * T, to - ch * T);
    if (hops) *noc = cadd(*noc, cmul(cmul(bits, hops, over), fj_hop, over), over);
}

/* One event's energy: its components into comp[] and the SRAM / NoC / D2D / host parts; fj is
 * the issuing tile's share. Every operation checked (*over). */
typedef struct { int64_t fj, sram, host, noc, d2d; } ev_energy;

static void event_energy(const en_ctx *c, const en_energy_acc *a, const chipemu_event *e,
                         int64_t comp[CHIPEMU_E_COUNT], ev_energy *r, double *over) {
    const int64_t *cost = a->cost;
    const int64_t rd = cost[A_SRAM_READ], wr = cost[A_SRAM_WRITE], fj_hop = cost[A_NOC];
    uint32_t t = e->tile;
    int op = e->op;
    /* bits < 2^35 and every cost <= 2^30 (check_params bounds them): one product of the two
     * fits; products of more factors and every sum are checked */
    int64_t bits = 8 * (int64_t)e->a;
    memset(r, 0, sizeof *r);
    switch (op) {
    case CHIPEMU_OP_DIMC_MVM: {
        /* a x b < 2^48 (b <= dimc_rows), x cols_eff < 2^20: checked */
        int64_t cols = chipemu_cols_eff(c->p->dimc_cols, c->p->dimc_cell_bits, c->elem_bits[e->fmt2]);
        int64_t macs = cmul((int64_t)e->a * e->b, cols, over);
        int64_t mac = cmul(macs, cost[A_MAC + e->fmt * CHIPEMU_NUM_FORMATS + e->fmt2], over);
        /* the overhead is per 8b x 8b MAC: it scales with the operand bits (bit-serial
         * cell-cycles), so it is a power while arrays compute, whatever the format */
        int64_t over_fj = cmuldiv(macs, cost[A_OVERHEAD], c->elem_bits[e->fmt] * c->elem_bits[e->fmt2],
                                  64, over);
        comp[CHIPEMU_E_DIMC] = mac;
        comp[CHIPEMU_E_OVERHEAD] = over_fj;
        int64_t acc = (e->flags & CHIPEMU_FLAG_ACCUMULATE) ? en_rlen(&e->dst) : 0;
        r->sram = 8 * (en_rlen(&e->src0) + acc) * rd + 8 * en_rlen(&e->dst) * wr;
        r->fj = cadd(mac, over_fj, over);
        break;
    }
    case CHIPEMU_OP_DIMC_LOAD:
        comp[CHIPEMU_E_DIMC_WRITE] = r->fj = (int64_t)e->b * cost[A_ROW_WRITE];
        r->sram = 8 * en_rlen(&e->src0) * rd;
        break;
    case CHIPEMU_OP_VEC: {
        int64_t acc = (e->flags & CHIPEMU_FLAG_ACCUMULATE) ? en_rlen(&e->dst) : 0;   /* vec_dot */
        comp[CHIPEMU_E_VECTOR] = r->fj = (int64_t)e->a * cost[A_VEC + e->c];
        r->sram = 8 * (en_rlen(&e->src0) + en_rlen(&e->src1) + acc) * rd + 8 * en_rlen(&e->dst) * wr;
        break;
    }
    case CHIPEMU_OP_SEND:
        if (a->scratch) {           /* tree: one read and the tree's links for the local peers */
            const uint32_t *pe = c->peers + e->peer_first;
            uint32_t local = 0;
            for (uint32_t j = 0; j < e->peer_count; j++) {
                if (pe[j] / c->T == t / c->T) {
                    local++;
                    continue;
                }
                route_energy(c, t, pe[j], bits, fj_hop, &r->noc, &r->d2d, over);
            }
            int64_t edges = en_mcast_edges(c, t, pe, e->peer_count, a->scratch);
            r->noc = cadd(r->noc, cmul(cmul(bits, edges, over), fj_hop, over), over);
            r->sram = cadd(cmul(bits * rd, (local > 0) + (e->peer_count - local), over),
                           cmul(bits * wr, e->peer_count, over), over);
            break;
        }
        for (uint32_t j = 0; j < e->peer_count; j++)
            route_energy(c, t, c->peers[e->peer_first + j], bits, fj_hop, &r->noc, &r->d2d, over);
        r->sram = cmul(bits * rd + bits * wr, e->peer_count, over);    /* bits x fJ < 2^56 */
        break;
    case CHIPEMU_OP_DRAM_READ:
    case CHIPEMU_OP_DRAM_WRITE: {
        const chipemu_range *g = op == CHIPEMU_OP_DRAM_READ ? &e->src0 : &e->dst;
        uint32_t at = en_attach_tile(c, c->buf[g->buf].where);
        route_energy(c, op == CHIPEMU_OP_DRAM_READ ? at : t, op == CHIPEMU_OP_DRAM_READ ? t : at,
                     bits, fj_hop, &r->noc, &r->d2d, over);
        comp[CHIPEMU_E_DRAM] = r->fj = bits * cost[A_DRAM];
        r->sram = bits * (op == CHIPEMU_OP_DRAM_READ ? wr : rd);
        break;
    }
    case CHIPEMU_OP_HOST_READ:                               /* the host link is card-level */
        comp[CHIPEMU_E_HOST] = r->host = bits * cost[A_HOST];
        route_energy(c, c->p->host_chiplet * c->T + c->p->host_tile, t, bits, fj_hop, &r->noc,
                     &r->d2d, over);
        r->sram = bits * wr;
        break;
    default:
        break;
    }
    comp[CHIPEMU_E_SRAM] = r->sram;
    comp[CHIPEMU_E_NOC] = r->noc;
    comp[CHIPEMU_E_D2D] = r->d2d;
    r->fj = cadd(cadd(cadd(r->fj, r->sram, over), r->noc, over), r->d2d, over);
}

/* Events [x0, x1) into acc (and out->energy_fj_event). An event whose own energy does not fit
 * int64 fJ fails here, naming it; sums over events that do not fit mark acc->over (finish fails). */
int32_t en_energy_events(en_ctx *c, en_energy_acc *a, int64_t x0, int64_t x1) {
    int64_t *per_event = c->out->energy_fj_event, *comp = a->by_component;
    for (int64_t x = x0; x < x1; x++) {
        const chipemu_event *e = &c->ev[x];
        int64_t parts[CHIPEMU_E_COUNT] = {0};
        ev_energy r;
        double over = 0;
        event_energy(c, a, e, parts, &r, &over);
        int64_t fj = cadd(r.fj, r.host, &over);
        if (over > 0) return too_large(c, x, over);
        for (int k = 0; k < CHIPEMU_E_COUNT; k++) comp[k] = cadd(comp[k], parts[k], &a->over);
        a->by_tile[e->tile] = cadd(a->by_tile[e->tile], r.fj, &a->over);
        a->by_tile[c->n_tiles] = cadd(a->by_tile[c->n_tiles], r.host, &a->over);
        a->by_op[e->op] = cadd(a->by_op[e->op], fj, &a->over);
        if (per_event != NULL) per_event[x] = fj;
    }
    return CHIPEMU_OK;
}

/* uW x cycles / GHz (1 uW x 1 ns = 1 fJ), rounded; beyond int64 marks *over. */
static int64_t static_fj(int64_t uw, int64_t cycles, double ghz, double *over) {
    double f = (double)uw * (double)cycles / ghz;
    if (f < 0x1p63) return (int64_t)llround(f);      /* llround of 2^63 or more is undefined */
    if (f > *over) *over = f;
    return INT64_MAX;
}

/* Merge the parts (in order) into the outputs, add static energy, sum chiplets and the total.
 * All figures are >= 0, so once the total fits every partial sum does; each is checked anyway. */
int32_t en_energy_finish(en_ctx *c, en_energy_acc *const *parts, int n_parts) {
    const chipemu_device_params *p = c->p;
    chipemu_engine_result *out = c->out;
    double over = 0;
    for (int k = 0; k < n_parts; k++) {
        const en_energy_acc *a = parts[k];
        if (a->over > over) over = a->over;
        for (uint32_t t = 0; t <= c->n_tiles; t++)
            out->energy_by_tile[t] = cadd(out->energy_by_tile[t], a->by_tile[t], &over);
        for (int j = 0; j < CHIPEMU_E_COUNT; j++)
            out->energy_by_component[j] = cadd(out->energy_by_component[j], a->by_component[j], &over);
        for (int j = 1; j < CHIPEMU_OP_COUNT; j++)
            out->energy_by_op[j] = cadd(out->energy_by_op[j], a->by_op[j], &over);
    }
    /* static energy, rounded per bucket; a chiplet's share is split evenly over its tiles with the
     * remainder on its tile 0; the card's goes to the card bucket */
    int64_t ms = out->makespan_cycles;
    int64_t s_tile = static_fj(p->static_uw_tile, ms, p->clock_ghz, &over);
    int64_t s_chip = static_fj(p->static_uw_chiplet, ms, p->clock_ghz, &over);
    int64_t s_card = static_fj(p->static_uw_card, ms, p->clock_ghz, &over);
    int64_t s_total = cadd(cadd(cmul(s_tile, c->n_tiles, &over), cmul(s_chip, c->C, &over), &over),
                           s_card, &over);
    int64_t total = 0;
    for (int k = 0; k < CHIPEMU_E_COUNT; k++)
        if (k != CHIPEMU_E_STATIC) total = cadd(total, out->energy_by_component[k], &over);
    total = cadd(total, s_total, &over);
    if (over > 0) return too_large(c, -1, over);
    for (uint32_t t = 0; t < c->n_tiles; t++)
        out->energy_by_tile[t] += s_tile + s_chip / c->T + (t % c->T == 0 ? s_chip % c->T : 0);
    out->energy_by_tile[c->n_tiles] += s_card;
    out->energy_by_component[CHIPEMU_E_STATIC] = s_total;
    out->energy_by_op[0] = s_total;
    for (uint32_t ch = 0; ch < c->C; ch++) {
        int64_t sum = 0;
        for (uint32_t t = ch * c->T; t < (ch + 1) * c->T; t++) sum += out->energy_by_tile[t];
        out->energy_by_chiplet[ch] = sum;
    }
    out->energy_by_chiplet[c->C] = out->energy_by_tile[c->n_tiles];
    out->energy_fj = total;
    return CHIPEMU_OK;
}
