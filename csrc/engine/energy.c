/* engine/energy.c — the energy function (docs/engine.md "Energy").
 *
 * This is the ONE place energy is computed: each event's actions (MACs, bits, element ops, ...)
 * times their integer femtojoules per action. Every action cost is an integer, so every breakdown —
 * per event, tile, chiplet, component, op kind — is an exact integer sum of the same products and
 * they all add up to the same total (int64, wrapping like any int64 sum beyond 9.2 kJ). Static
 * energy is rounded once per bucket (tile, chiplet, card) and belongs to no event.
 *
 * Dynamic energy depends only on the log, so en_energy_events runs while the log is timed (on the
 * worker thread when there is one); parts of the log accumulate separately and are merged in order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

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
                         int64_t *noc, int64_t *d2d) {
    uint32_t T = c->T, ch = from / T, cht = to / T;
    int64_t hops = 0;
    while (ch != cht) {
        int32_t l = c->next_link[(size_t)ch * c->C + cht];
        if (l < 0) return;                                   /* validated: not reached */
        const chipemu_link *k = &c->p->links[l];
        int from_a = k->a == ch;
        hops += mesh_hops(c, from - ch * T, from_a ? k->phy_a : k->phy_b);
        *d2d += bits * k->fj_per_bit;
        ch = from_a ? k->b : k->a;
        from = ch * T + (from_a ? k->phy_b : k->phy_a);
    }
    hops += mesh_hops(c, from - ch * T, to - ch * T);
    if (hops) *noc += bits * hops * fj_hop;
}

void en_energy_events(const en_ctx *c, en_energy_acc *a, int64_t x0, int64_t x1) {
    const chipemu_device_params *p = c->p;
    const int64_t *cost = a->cost;
    int64_t *per_event = c->out->energy_fj_event, *comp = a->by_component;
    const int64_t rd = cost[A_SRAM_READ], wr = cost[A_SRAM_WRITE], fj_hop = cost[A_NOC];
    for (int64_t x = x0; x < x1; x++) {
        const chipemu_event *e = &c->ev[x];
        uint32_t t = e->tile;
        int op = e->op;
        int64_t bits = 8 * (int64_t)e->a, sram = 0, host = 0, noc = 0, d2d = 0, fj = 0;
        switch (op) {
        case CHIPEMU_OP_DIMC_MVM: {
            en_costs k;
            en_compute_costs(c, e, &k);
            int64_t mac = k.macs * cost[A_MAC + e->fmt * CHIPEMU_NUM_FORMATS + e->fmt2];
            /* the overhead is per 8b x 8b MAC: it scales with the operand bits (bit-serial
             * cell-cycles), so it is a power while arrays compute, whatever the format */
            int64_t over = k.macs * cost[A_OVERHEAD] * c->elem_bits[e->fmt] * c->elem_bits[e->fmt2] / 64;
            comp[CHIPEMU_E_DIMC] += mac;
            comp[CHIPEMU_E_OVERHEAD] += over;
            int64_t acc = (e->flags & CHIPEMU_FLAG_ACCUMULATE) ? en_rlen(&e->dst) : 0;
            sram = 8 * (en_rlen(&e->src0) + acc) * rd + 8 * en_rlen(&e->dst) * wr;
            fj = mac + over;
            break;
        }
        case CHIPEMU_OP_DIMC_LOAD: {
            int64_t rows = (int64_t)e->b * cost[A_ROW_WRITE];
            comp[CHIPEMU_E_DIMC_WRITE] += rows;
            sram = 8 * en_rlen(&e->src0) * rd;
            fj = rows;
            break;
        }
        case CHIPEMU_OP_VEC: {
            int64_t v = (int64_t)e->a * cost[A_VEC + e->c];
            int64_t acc = (e->flags & CHIPEMU_FLAG_ACCUMULATE) ? en_rlen(&e->dst) : 0;   /* vec_dot */
            comp[CHIPEMU_E_VECTOR] += v;
            sram = 8 * (en_rlen(&e->src0) + en_rlen(&e->src1) + acc) * rd + 8 * en_rlen(&e->dst) * wr;
            fj = v;
            break;
        }
        case CHIPEMU_OP_SEND:
            if (a->scratch) {       /* tree: one read and the tree's links for the local peers */
                const uint32_t *pe = c->peers + e->peer_first;
                uint32_t local = 0;
                for (uint32_t j = 0; j < e->peer_count; j++) {
                    if (pe[j] / c->T == t / c->T) {
                        local++;
                        continue;
                    }
                    route_energy(c, t, pe[j], bits, fj_hop, &noc, &d2d);
                }
                int64_t edges = en_mcast_edges(c, t, pe, e->peer_count, a->scratch);
                noc += bits * edges * fj_hop;
                sram = bits * rd * ((local > 0) + (e->peer_count - local)) + bits * wr * e->peer_count;
                break;
            }
            for (uint32_t j = 0; j < e->peer_count; j++) {
                route_energy(c, t, c->peers[e->peer_first + j], bits, fj_hop, &noc, &d2d);
                sram += bits * rd + bits * wr;
            }
            break;
        case CHIPEMU_OP_DRAM_READ:
        case CHIPEMU_OP_DRAM_WRITE: {
            const chipemu_range *r = op == CHIPEMU_OP_DRAM_READ ? &e->src0 : &e->dst;
            uint32_t at = en_attach_tile(c, c->buf[r->buf].where);
            route_energy(c, op == CHIPEMU_OP_DRAM_READ ? at : t, op == CHIPEMU_OP_DRAM_READ ? t : at,
                         bits, fj_hop, &noc, &d2d);
            int64_t dram = bits * cost[A_DRAM];
            comp[CHIPEMU_E_DRAM] += dram;
            sram = bits * (op == CHIPEMU_OP_DRAM_READ ? wr : rd);
            fj = dram;
            break;
        }
        case CHIPEMU_OP_HOST_READ:                           /* the host link is card-level */
            host = bits * cost[A_HOST];
            comp[CHIPEMU_E_HOST] += host;
            route_energy(c, p->host_chiplet * c->T + p->host_tile, t, bits, fj_hop, &noc, &d2d);
            sram = bits * wr;
            break;
        default:
            break;
        }
        comp[CHIPEMU_E_SRAM] += sram;
        comp[CHIPEMU_E_NOC] += noc;
        comp[CHIPEMU_E_D2D] += d2d;
        fj += sram + noc + d2d;                              /* the issuing tile's share */
        a->by_tile[t] += fj;
        a->by_tile[c->n_tiles] += host;
        fj += host;
        a->by_op[op] += fj;
        if (per_event != NULL) per_event[x] = fj;
    }
}

static int64_t static_fj(int64_t uw, int64_t cycles, double ghz) {
    return (int64_t)llround((double)uw * (double)cycles / ghz);   /* 1 uW x 1 ns = 1 fJ */
}

/* Merge the parts (in order) into the outputs, add static energy, sum chiplets and the total. */
void en_energy_finish(en_ctx *c, en_energy_acc *const *parts, int n_parts) {
    const chipemu_device_params *p = c->p;
    chipemu_engine_result *out = c->out;
    for (int k = 0; k < n_parts; k++) {
        const en_energy_acc *a = parts[k];
        for (uint32_t t = 0; t <= c->n_tiles; t++) out->energy_by_tile[t] += a->by_tile[t];
        for (int j = 0; j < CHIPEMU_E_COUNT; j++) out->energy_by_component[j] += a->by_component[j];
        for (int j = 1; j < CHIPEMU_OP_COUNT; j++) out->energy_by_op[j] += a->by_op[j];
    }
    /* static energy, rounded per bucket; a chiplet's share is split evenly over its tiles with the
     * remainder on its tile 0; the card's goes to the card bucket */
    int64_t ms = out->makespan_cycles;
    int64_t s_tile = static_fj(p->static_uw_tile, ms, p->clock_ghz);
    int64_t s_chip = static_fj(p->static_uw_chiplet, ms, p->clock_ghz);
    int64_t s_card = static_fj(p->static_uw_card, ms, p->clock_ghz);
    for (uint32_t t = 0; t < c->n_tiles; t++)
        out->energy_by_tile[t] += s_tile + s_chip / c->T + (t % c->T == 0 ? s_chip % c->T : 0);
    out->energy_by_tile[c->n_tiles] += s_card;
    int64_t s_total = s_tile * c->n_tiles + s_chip * c->C + s_card;
    out->energy_by_component[CHIPEMU_E_STATIC] = s_total;
    out->energy_by_op[0] = s_total;
    for (uint32_t ch = 0; ch < c->C; ch++) {
        int64_t sum = 0;
        for (uint32_t t = ch * c->T; t < (ch + 1) * c->T; t++) sum += out->energy_by_tile[t];
        out->energy_by_chiplet[ch] = sum;
    }
    out->energy_by_chiplet[c->C] = out->energy_by_tile[c->n_tiles];
    int64_t total = 0;
    for (int k = 0; k < CHIPEMU_E_COUNT; k++) total += out->energy_by_component[k];
    out->energy_fj = total;
}
