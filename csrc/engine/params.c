/* engine/params.c — the engine's checks of chipemu_device_params: every field against the one
 * limits table (CHIPEMU_LIMIT_*, generated from chipemu.emulator.tables.limits), the derived
 * quantities (tiles, resources, memory regions, the static power total) and chiplet
 * connectivity, so the engine accepts exactly the devices Python's Device accepts. */
#include <math.h>
#include <stddef.h>

#include "engine/internal.h"

#define PARAM(f) ((int32_t)offsetof(chipemu_device_params, f))
#define LINKF(f) ((int32_t)offsetof(chipemu_link, f))

/* The lowest chiplet that no chain of links joins to chiplet 0, or -1 when every one is joined
 * (union-find; links already checked to name chiplets < n_chiplets <= 4096). */
static int64_t unreachable_chiplet(const chipemu_device_params *p) {
    uint16_t up[CHIPEMU_LIMIT_N_CHIPLETS_MAX];
    for (uint32_t i = 0; i < p->n_chiplets; i++) up[i] = (uint16_t)i;
    for (uint32_t l = 0; l < p->n_links; l++) {
        uint32_t a = p->links[l].a, b = p->links[l].b;
        while (up[a] != a) a = up[a] = up[up[a]];           /* path halving */
        while (up[b] != b) b = up[b] = up[up[b]];
        if (a != b) up[a > b ? a : b] = (uint16_t)(a < b ? a : b);   /* roots point down to 0 */
    }
    for (uint32_t i = 1; i < p->n_chiplets; i++) {
        uint32_t r = i;
        while (up[r] != r) r = up[r];
        if (r != 0) return i;
    }
    return -1;
}

int32_t en_check_params(en_ctx *c, const chipemu_device_params *p) {
    const int32_t E = CHIPEMU_ERR_PARAMS, P = CHIPEMU_EE_PARAM;
#define NEED(cond, f, v, lim) \
    do { if (!(cond)) return en_fail(c, E, -1, P, PARAM(f), (int64_t)(v), (int64_t)(lim)); } while (0)
#define AT_LEAST_1(f) NEED(p->f >= 1, f, p->f, 1)
/* CHIPEMU_LIMIT_*_MIN <= p->f <= CHIPEMU_LIMIT_*_MAX (tables.limits); the limit given is the bound broken */
#define IN_LIMIT(f, L) NEED((int64_t)p->f >= L##_MIN && (int64_t)p->f <= L##_MAX, f, p->f, \
                            (int64_t)p->f < L##_MIN ? L##_MIN : L##_MAX)
/* the same for entry i of a table field: the error names the table (its offset) */
#define IN_LIMIT_AT(f, i, L) \
    do { if ((int64_t)p->f[i] < L##_MIN || (int64_t)p->f[i] > L##_MAX) \
             return en_fail(c, E, -1, P, PARAM(f), (int64_t)p->f[i], \
                            (int64_t)p->f[i] < L##_MIN ? L##_MIN : L##_MAX); } while (0)
    NEED(p->version == CHIPEMU_ENGINE_PARAMS_VERSION, version, p->version, CHIPEMU_ENGINE_PARAMS_VERSION);
    IN_LIMIT(n_chiplets, CHIPEMU_LIMIT_N_CHIPLETS);
    AT_LEAST_1(tile_rows);
    AT_LEAST_1(tile_cols);
    uint64_t T = (uint64_t)p->tile_rows * p->tile_cols;
    NEED(T <= CHIPEMU_LIMIT_N_TILES_MAX, tile_cols, p->tile_cols, CHIPEMU_LIMIT_N_TILES_MAX / p->tile_rows);
    NEED(T * p->n_chiplets <= CHIPEMU_LIMIT_N_TILES_MAX, n_chiplets, p->n_chiplets,
         CHIPEMU_LIMIT_N_TILES_MAX / T);
    /* float bounds come as millionths (cffi's cdef has integer #defines only); the quotient is
     * correctly rounded, so it is the double Python compares with */
    const double clock_min = CHIPEMU_LIMIT_CLOCK_GHZ_MIN_E6 / 1e6, clock_max = CHIPEMU_LIMIT_CLOCK_GHZ_MAX_E6 / 1e6;
    NEED(isfinite(p->clock_ghz) && p->clock_ghz >= clock_min && p->clock_ghz <= clock_max, clock_ghz,
         isfinite(p->clock_ghz) && fabs(p->clock_ghz) < 1e12 ? llround(p->clock_ghz * 1e6) : -1,
         p->clock_ghz < clock_min ? CHIPEMU_LIMIT_CLOCK_GHZ_MIN_E6 : CHIPEMU_LIMIT_CLOCK_GHZ_MAX_E6);
    AT_LEAST_1(noc_link_bytes_per_cycle);
    AT_LEAST_1(noc_max_packet_bytes);
    NEED(p->network < CHIPEMU_NET_COUNT, network, p->network, CHIPEMU_NET_COUNT - 1);
    NEED(p->noc_multicast < CHIPEMU_MCAST_COUNT, noc_multicast, p->noc_multicast, CHIPEMU_MCAST_COUNT - 1);
    AT_LEAST_1(dma_inject_bytes_per_cycle);
    AT_LEAST_1(dma_eject_bytes_per_cycle);
    IN_LIMIT(dimc_rows, CHIPEMU_LIMIT_DIMC_ROWS);
    IN_LIMIT(dimc_cols, CHIPEMU_LIMIT_DIMC_COLS);
    IN_LIMIT(dimc_slots, CHIPEMU_LIMIT_DIMC_SLOTS);
    IN_LIMIT(dimc_engines, CHIPEMU_LIMIT_DIMC_ENGINES);
    IN_LIMIT(dimc_cell_bits, CHIPEMU_LIMIT_DIMC_CELL_BITS);
    /* cells hold whole narrowest elements and a row of cells is whole bytes (as the runtime's) */
    NEED(p->dimc_cell_bits % CHIPEMU_DIMC_MIN_ELEM_BITS == 0, dimc_cell_bits, p->dimc_cell_bits,
         CHIPEMU_DIMC_MIN_ELEM_BITS);
    NEED((uint64_t)p->dimc_cols * p->dimc_cell_bits % 8 == 0, dimc_cols, p->dimc_cols, 8);
    AT_LEAST_1(dimc_input_bits_per_cycle);
    AT_LEAST_1(dimc_io_bytes_per_cycle);
    NEED(p->dimc_write_overlaps_compute <= 1, dimc_write_overlaps_compute,
         p->dimc_write_overlaps_compute, 1);
    AT_LEAST_1(sram_port_bytes_per_cycle);
    IN_LIMIT(sram_capacity_bytes, CHIPEMU_LIMIT_SRAM_CAPACITY_BYTES);
    AT_LEAST_1(vec_lanes);
    for (int i = 0; i < CHIPEMU_VOP_COUNT; i++)
        IN_LIMIT_AT(vec_cycles, i, CHIPEMU_LIMIT_VEC_CYCLES);
    IN_LIMIT(n_links, CHIPEMU_LIMIT_N_LINKS);
    NEED(p->n_links == 0 || p->links != NULL, links, 0, 0);
    IN_LIMIT(dram_channels, CHIPEMU_LIMIT_DRAM_CHANNELS);
    NEED(p->dram_channels == 0 || p->dram_channel_tile != NULL, dram_channel_tile, 0, 0);
    for (uint32_t i = 0; i < p->dram_channels; i++)
        if (p->dram_channel_tile[i] >= T)
            return en_fail(c, E, -1, P, PARAM(dram_channel_tile), i, T);
    NEED(p->dram_channels == 0 || p->dram_bytes_per_cycle >= 1, dram_bytes_per_cycle,
         p->dram_bytes_per_cycle, 1);
    NEED(p->host_chiplet < p->n_chiplets, host_chiplet, p->host_chiplet, p->n_chiplets);
    NEED(p->host_tile < T, host_tile, p->host_tile, T);
    AT_LEAST_1(host_bytes_per_cycle);
    /* energy per action and static power: bounded so plausible runs fit int64 fJ (energy.c checks
     * the rest); for a table, the field names the table and value is the entry's */
    for (int i = 0; i < CHIPEMU_NUM_FORMATS; i++) IN_LIMIT_AT(fj_mac, i, CHIPEMU_LIMIT_FJ_MAC);
    for (int i = 0; i < CHIPEMU_VOP_COUNT; i++) IN_LIMIT_AT(fj_vec_op, i, CHIPEMU_LIMIT_FJ_VEC_OP);
    IN_LIMIT(fj_overhead_per_mac, CHIPEMU_LIMIT_FJ_OVERHEAD_PER_MAC);
    IN_LIMIT(fj_dimc_row_write, CHIPEMU_LIMIT_FJ_DIMC_ROW_WRITE);
    IN_LIMIT(fj_sram_read_bit, CHIPEMU_LIMIT_FJ_SRAM_READ_BIT);
    IN_LIMIT(fj_sram_write_bit, CHIPEMU_LIMIT_FJ_SRAM_WRITE_BIT);
    IN_LIMIT(fj_noc_bit_hop, CHIPEMU_LIMIT_FJ_NOC_BIT_HOP);
    IN_LIMIT(fj_dram_bit, CHIPEMU_LIMIT_FJ_DRAM_BIT);
    IN_LIMIT(fj_host_bit, CHIPEMU_LIMIT_FJ_HOST_BIT);
    IN_LIMIT(static_uw_tile, CHIPEMU_LIMIT_STATIC_UW_TILE);
    IN_LIMIT(static_uw_chiplet, CHIPEMU_LIMIT_STATIC_UW_CHIPLET);
    IN_LIMIT(static_uw_card, CHIPEMU_LIMIT_STATIC_UW_CARD);
    /* each term <= 1e10 uW x 2^24 tiles: the sum fits int64 */
    int64_t static_uw = p->static_uw_tile * (int64_t)(T * p->n_chiplets) +
                        p->static_uw_chiplet * (int64_t)p->n_chiplets + p->static_uw_card;
    NEED(static_uw <= CHIPEMU_LIMIT_STATIC_UW_MAX, static_uw_tile, static_uw, CHIPEMU_LIMIT_STATIC_UW_MAX);
#undef AT_LEAST_1
#undef IN_LIMIT
#undef IN_LIMIT_AT
#undef NEED
    for (uint32_t i = 0; i < p->n_links; i++) {
        const chipemu_link *l = &p->links[i];
        const int32_t L = CHIPEMU_EE_LINK;
        if (l->a >= p->n_chiplets) return en_fail(c, E, -1, L, LINKF(a), i, p->n_chiplets);
        if (l->b >= p->n_chiplets || l->b == l->a) return en_fail(c, E, -1, L, LINKF(b), i, p->n_chiplets);
        if (l->phy_a >= T) return en_fail(c, E, -1, L, LINKF(phy_a), i, T);
        if (l->phy_b >= T) return en_fail(c, E, -1, L, LINKF(phy_b), i, T);
        if (l->bytes_per_cycle < 1) return en_fail(c, E, -1, L, LINKF(bytes_per_cycle), i, 1);
        if (l->fj_per_bit < CHIPEMU_LIMIT_FJ_LINK_BIT_MIN || l->fj_per_bit > CHIPEMU_LIMIT_FJ_LINK_BIT_MAX)
            return en_fail(c, E, -1, L, LINKF(fj_per_bit), i, CHIPEMU_LIMIT_FJ_LINK_BIT_MAX);
    }
    int64_t lost = unreachable_chiplet(p);
    if (lost >= 0)          /* as Device: every chiplet reachable from chiplet 0 over the links */
        return en_fail(c, E, -1, CHIPEMU_EE_NO_ROUTE, PARAM(links), lost, p->n_chiplets);
    /* resource ids and (tile, unit) keys must stay in int32 */
    uint64_t tiles = T * p->n_chiplets, E6 = (uint64_t)p->dimc_engines + 6;
    uint64_t noc = 2 * p->n_chiplets * ((uint64_t)p->tile_rows * (p->tile_cols - 1) +
                                         (uint64_t)p->tile_cols * (p->tile_rows - 1));
    uint64_t n_res = tiles * E6 + noc + 2ull * p->n_links + (uint64_t)p->n_chiplets * p->dram_channels + 1;
    if (n_res > CHIPEMU_LIMIT_N_RESOURCES_MAX)
        return en_fail(c, E, -1, CHIPEMU_EE_TOO_LARGE, PARAM(dimc_engines), (int64_t)n_res,
                       CHIPEMU_LIMIT_N_RESOURCES_MAX);
    uint64_t n_mem = tiles * (1 + (uint64_t)p->dimc_slots) + (uint64_t)p->n_chiplets * p->dram_channels;
    if (n_mem > CHIPEMU_LIMIT_MEMORY_REGIONS_MAX)       /* the hazard walk's table (hazard.c) */
        return en_fail(c, E, -1, CHIPEMU_EE_TOO_LARGE, PARAM(dimc_slots), (int64_t)n_mem,
                       CHIPEMU_LIMIT_MEMORY_REGIONS_MAX);
    return CHIPEMU_OK;
}

/* Geometry and counts that need no allocation. */
