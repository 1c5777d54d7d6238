/* test_driver_engine_limits.c — the engine's parameter checks (every field against the limits
 * table, as Device checks them) and its overflow checks (time and energy past int64 give
 * TOO_LARGE with the figures). Included by test_driver_engine.c, whose helpers it uses. */

static void test_engine_param_errors(void) {
    chipemu_engine_error err;
    chipemu_device_params p = eng_params();
    CHECK_ST(chipemu_engine_check_params(&p, &err), CHIPEMU_OK, "check_params");
    CHECK_ST(chipemu_engine_check_params(NULL, &err), CHIPEMU_ERR_NULL, "check_params(NULL)");
    CHECK_ST(chipemu_engine_check_params(&p, NULL), CHIPEMU_OK, "check_params(p, NULL)");
    CHECK(chipemu_engine_resource_count(NULL) == -1, "resource_count(NULL)");
#define BAD(change, member)                                                                      \
    do {                                                                                         \
        p = eng_params();                                                                        \
        change;                                                                                  \
        int32_t st_ = chipemu_engine_check_params(&p, &err);                                     \
        CHECK(st_ == CHIPEMU_ERR_PARAMS && err.code == CHIPEMU_EE_PARAM &&                       \
              err.field == (int32_t)offsetof(chipemu_device_params, member),                     \
              "%s: status %d code %d field %d", #change, (int)st_, (int)err.code, (int)err.field); \
        CHECK(chipemu_engine_resource_count(&p) == -1, "%s: resource_count", #change);          \
    } while (0)
    BAD(p.version = CHIPEMU_ENGINE_PARAMS_VERSION + 1, version);
    BAD(p.network = CHIPEMU_NET_COUNT, network);
    BAD(p.noc_multicast = CHIPEMU_MCAST_COUNT, noc_multicast);
    BAD(p.n_chiplets = 0, n_chiplets);
    BAD(p.n_chiplets = 5000, n_chiplets);
    BAD(p.tile_rows = 0, tile_rows);
    BAD(p.tile_cols = 0, tile_cols);
    BAD((p.tile_rows = 1u << 20, p.tile_cols = 1u << 20), tile_cols);
    BAD(p.clock_ghz = 0, clock_ghz);
    BAD(p.clock_ghz = NAN, clock_ghz);
    BAD(p.noc_link_bytes_per_cycle = 0, noc_link_bytes_per_cycle);
    BAD(p.noc_max_packet_bytes = 0, noc_max_packet_bytes);
    BAD(p.dma_eject_bytes_per_cycle = 0, dma_eject_bytes_per_cycle);
    BAD(p.dimc_engines = 0, dimc_engines);
    BAD(p.dimc_engines = 257, dimc_engines);
    BAD(p.dimc_cell_bits = 65, dimc_cell_bits);
    BAD(p.dimc_write_overlaps_compute = 2, dimc_write_overlaps_compute);
    BAD(p.sram_port_bytes_per_cycle = 0, sram_port_bytes_per_cycle);
    BAD(p.vec_lanes = 0, vec_lanes);
    BAD(p.links = NULL, links);
    BAD(p.dram_channel_tile = NULL, dram_channel_tile);
    BAD(eng_dram_tile[0] = 4, dram_channel_tile);
    BAD(p.dram_bytes_per_cycle = 0, dram_bytes_per_cycle);
    BAD(p.host_chiplet = 4, host_chiplet);
    BAD(p.host_tile = 4, host_tile);
    BAD(p.fj_mac[3] = -1, fj_mac);
    BAD(p.fj_vec_op[9] = -1, fj_vec_op);
    BAD(p.static_uw_card = -1, static_uw_card);
    /* issue 11: what Device rejects, check_params rejects (tables.limits, CHIPEMU_LIMIT_*) */
    BAD(p.vec_cycles[4] = 0, vec_cycles);
    BAD(p.vec_cycles[0] = UINT32_MAX, vec_cycles);
    BAD(p.vec_cycles[0] = CHIPEMU_LIMIT_VEC_CYCLES_MAX + 1, vec_cycles);
    BAD(p.dimc_cell_bits = 3, dimc_cell_bits);
    BAD(p.dimc_cell_bits = 6, dimc_cell_bits);
    BAD((p.dimc_cols = 63, p.dimc_cell_bits = 4), dimc_cols);
    BAD(p.sram_capacity_bytes = 0, sram_capacity_bytes);
    BAD(p.sram_capacity_bytes = UINT64_MAX, sram_capacity_bytes);
    BAD(p.clock_ghz = 1e-12, clock_ghz);
    BAD(p.clock_ghz = 1000.001, clock_ghz);
    BAD(p.clock_ghz = INFINITY, clock_ghz);
    BAD(p.fj_overhead_per_mac = (int64_t)1e14, fj_overhead_per_mac);
    BAD(p.fj_mac[3] = CHIPEMU_LIMIT_FJ_MAC_MAX + 1, fj_mac);
    BAD(p.fj_dimc_row_write = CHIPEMU_LIMIT_FJ_DIMC_ROW_WRITE_MAX + 1, fj_dimc_row_write);
    BAD(p.fj_sram_read_bit = CHIPEMU_LIMIT_FJ_SRAM_READ_BIT_MAX + 1, fj_sram_read_bit);
    BAD(p.fj_noc_bit_hop = INT64_MAX, fj_noc_bit_hop);
    BAD(p.fj_dram_bit = INT64_MIN, fj_dram_bit);
    BAD(p.fj_host_bit = CHIPEMU_LIMIT_FJ_HOST_BIT_MAX + 1, fj_host_bit);
    BAD(p.fj_vec_op[0] = CHIPEMU_LIMIT_FJ_VEC_OP_MAX + 1, fj_vec_op);
    BAD(p.static_uw_card = INT64_MAX / 4, static_uw_card);         /* the wrapped energy */
    BAD(p.static_uw_tile = CHIPEMU_LIMIT_STATIC_UW_MAX / 16 + 1, static_uw_tile);   /* the total */
    /* the bounds themselves are accepted; dram_channels 0 (no DRAM) too, as by Device */
    p = eng_params();
    p.clock_ghz = CHIPEMU_LIMIT_CLOCK_GHZ_MIN_E6 / 1e6;
    p.vec_cycles[0] = CHIPEMU_LIMIT_VEC_CYCLES_MAX;
    p.fj_overhead_per_mac = CHIPEMU_LIMIT_FJ_OVERHEAD_PER_MAC_MAX;
    p.static_uw_card = CHIPEMU_LIMIT_STATIC_UW_CARD_MAX;
    p.dram_channels = 0;
    CHECK_ST(chipemu_engine_check_params(&p, &err), CHIPEMU_OK, "check_params at the bounds");
#undef BAD
    /* every chiplet must be reachable from chiplet 0: drop links until chiplet 3 is cut off */
    p = eng_params();
    p.n_links = 2;                                           /* 0-1, 2-3: {2, 3} cut off */
    CHECK(chipemu_engine_check_params(&p, &err) == CHIPEMU_ERR_PARAMS && err.code == CHIPEMU_EE_NO_ROUTE &&
          err.value == 2 && err.field == (int32_t)offsetof(chipemu_device_params, links),
          "disconnected: code %d value %lld", (int)err.code, (long long)err.value);
    p.n_links = 3;                                           /* + 0-2: 3 still reached via 2 */
    CHECK_ST(chipemu_engine_check_params(&p, &err), CHIPEMU_OK, "connected by 3 links");
    eng_links[2].b = 1;                                      /* 0-1, 2-3, 0-1: {2, 3} cut off */
    CHECK(chipemu_engine_check_params(&p, &err) == CHIPEMU_ERR_PARAMS && err.value == 2, "cut off");
    p = eng_params();
    p.n_chiplets = 1;                                        /* one chiplet needs no link */
    p.n_links = 0;
    p.host_chiplet = 0;
    CHECK_ST(chipemu_engine_check_params(&p, &err), CHIPEMU_OK, "one chiplet");
    const struct { int l; size_t member; } links[] = {
        {0, offsetof(chipemu_link, a)}, {1, offsetof(chipemu_link, b)}, {2, offsetof(chipemu_link, phy_a)},
        {3, offsetof(chipemu_link, phy_b)}, {0, offsetof(chipemu_link, bytes_per_cycle)},
        {1, offsetof(chipemu_link, fj_per_bit)}, {2, offsetof(chipemu_link, fj_per_bit)}};
    for (int k = 0; k < 7; k++) {
        p = eng_params();
        chipemu_link *l = &eng_links[links[k].l];
        switch (k) {
        case 0: l->a = 4; break;
        case 1: l->b = l->a; break;
        case 2: l->phy_a = 4; break;
        case 3: l->phy_b = 4; break;
        case 4: l->bytes_per_cycle = 0; break;
        case 5: l->fj_per_bit = -1; break;
        default: l->fj_per_bit = CHIPEMU_LIMIT_FJ_LINK_BIT_MAX + 1; break;
        }
        int32_t st = chipemu_engine_check_params(&p, &err);
        CHECK(st == CHIPEMU_ERR_PARAMS && err.code == CHIPEMU_EE_LINK && err.value == links[k].l &&
              err.field == (int32_t)links[k].member, "link case %d: status %d code %d", k, (int)st,
              (int)err.code);
    }
    /* engine_run reports the same */
    p = eng_params();
    eng_out o;
    eng_out_init(&o, &p, 1);
    p.vec_lanes = 0;
    CHECK_ST(chipemu_engine_run(&p, NULL, 0, NULL, 0, NULL, 0, &o.r), CHIPEMU_ERR_PARAMS, "run(bad params)");
    eng_out_free(&o);
}

/* One op on tile 0 of a 1-event log; returns the status and leaves the outputs in *o. */
static int32_t eng_one(const chipemu_device_params *p, chipemu_event e, int64_t n, eng_out *o) {
    chipemu_event *ev = xmalloc((size_t)n * sizeof *ev);
    for (int64_t i = 0; i < n; i++) ev[i] = e;
    uint32_t no_peers[1] = {0};
    eng_out_init(o, p, n);
    int32_t st = eng_run(p, ev, n, no_peers, 0, o);
    free(ev);
    return st;
}

/* issue 11: time and energy never wrap. Figures past int64 fJ (9.2 kJ) or 2^62 cycles give
 * CHIPEMU_ERR_LOG / CHIPEMU_EE_TOO_LARGE with what (field), at least how much (value) and the limit. */
static void test_engine_overflow(void) {
    chipemu_device_params p = eng_params();
    eng_out o;
    /* the VEC op: 2^32-1 elements, 1 lane; 2^32-1 cycles per batch is refused up front,
     * the largest allowed gives (2^32-1) x 65535 cycles exactly (it used to wrap to 4) */
    chipemu_event v = eng_event(CHIPEMU_OP_VEC, 0, 0);
    v.a = UINT32_MAX;
    v.src0 = v.dst = eng_rng(0, 0, 64);
    p.vec_lanes = 1;
    p.vec_cycles[0] = UINT32_MAX;
    CHECK_ST(eng_one(&p, v, 1, &o), CHIPEMU_ERR_PARAMS, "vec_cycles 2^32-1");
    eng_out_free(&o);
    p.vec_cycles[0] = CHIPEMU_LIMIT_VEC_CYCLES_MAX;
    CHECK_ST(eng_one(&p, v, 1, &o), CHIPEMU_OK, "the largest vector op");
    CHECK(o.r.makespan_cycles == (int64_t)UINT32_MAX * CHIPEMU_LIMIT_VEC_CYCLES_MAX, "vec time %lld",
          (long long)o.r.makespan_cycles);
    eng_out_free(&o);
    /* 16500 of them pass 2^62 cycles */
    int32_t st = eng_one(&p, v, 16500, &o);
    CHECK(st == CHIPEMU_ERR_LOG && o.r.error.code == CHIPEMU_EE_TOO_LARGE &&
          o.r.error.field == CHIPEMU_TOO_LARGE_CYCLES && o.r.error.limit == (int64_t)1 << 62 &&
          o.r.error.value >= o.r.error.limit, "time overflow: status %d code %d field %d", (int)st,
          (int)o.r.error.code, (int)o.r.error.field);
    eng_out_free(&o);
    /* one MVM of 2^31 vectors x 64 rows x 64 columns at the largest MAC and overhead costs:
     * 1.76e19 fJ in one event */
    p = eng_params();
    chipemu_event m = eng_event(CHIPEMU_OP_DIMC_MVM, 0, 0);
    m.a = 1u << 31;
    m.b = 64;
    m.fmt = m.fmt2 = CHIPEMU_FMT_INT8;
    m.src0 = eng_rng(1, 0, 256);
    m.dst = eng_rng(2, 0, 1024);
    p.fj_mac[CHIPEMU_FMT_INT8] = CHIPEMU_LIMIT_FJ_MAC_MAX;
    p.fj_overhead_per_mac = CHIPEMU_LIMIT_FJ_OVERHEAD_PER_MAC_MAX;
    for (int32_t th = 1; th <= 2; th++) {
        eng_out_init(&o, &p, 1);
        o.r.threads = th;
        chipemu_event *one = xmalloc(sizeof *one);
        *one = m;
        uint32_t no_peers[1] = {0};
        st = eng_run(&p, one, 1, no_peers, 0, &o);
        free(one);
        CHECK(st == CHIPEMU_ERR_LOG && o.r.error.code == CHIPEMU_EE_TOO_LARGE && o.r.error.event == 0 &&
              o.r.error.field == CHIPEMU_TOO_LARGE_ENERGY && o.r.error.value >= 17592 &&
              o.r.error.value <= 17594 && o.r.error.limit == 9223,
              "event energy overflow: status %d code %d event %lld value %lld", (int)st,
              (int)o.r.error.code, (long long)o.r.error.event, (long long)o.r.error.value);
        eng_out_free(&o);
    }
    /* without the overhead the event holds 8.8e18 fJ: it fits, exactly */
    p.fj_overhead_per_mac = 0;
    CHECK_ST(eng_one(&p, m, 1, &o), CHIPEMU_OK, "8.8e18 fJ");
    int64_t sram = 256 * 8 * 2 + 1024 * 8 * 3;
    CHECK(o.r.energy_fj == ((int64_t)1 << 31) * 4096 * CHIPEMU_LIMIT_FJ_MAC_MAX + sram && o.r.energy_fj > 0,
          "energy %lld", (long long)o.r.energy_fj);
    eng_out_free(&o);
    /* two of them: each fits, the sum does not; no event named (the same with any thread count) */
    st = eng_one(&p, m, 2, &o);
    CHECK(st == CHIPEMU_ERR_LOG && o.r.error.code == CHIPEMU_EE_TOO_LARGE && o.r.error.event == -1 &&
          o.r.error.field == CHIPEMU_TOO_LARGE_ENERGY, "sum overflow: status %d event %lld", (int)st,
          (long long)o.r.error.event);
    eng_out_free(&o);
    /* static energy: the slowest clock and the most static power over 2^31 cycles */
    p = eng_params();
    p.clock_ghz = CHIPEMU_LIMIT_CLOCK_GHZ_MIN_E6 / 1e6;
    p.static_uw_card = CHIPEMU_LIMIT_STATIC_UW_CARD_MAX;
    p.vec_lanes = 1;
    v.a = INT32_MAX;
    p.vec_cycles[0] = 1;
    st = eng_one(&p, v, 1, &o);
    CHECK(st == CHIPEMU_ERR_LOG && o.r.error.code == CHIPEMU_EE_TOO_LARGE && o.r.error.event == -1 &&
          o.r.error.field == CHIPEMU_TOO_LARGE_ENERGY && o.r.error.value > 9223,
          "static overflow: status %d value %lld", (int)st, (long long)o.r.error.value);
    eng_out_free(&o);
    p.static_uw_card = 4000;                                   /* 8.6e18 fJ: fits */
    CHECK_ST(eng_one(&p, v, 1, &o), CHIPEMU_OK, "static 8.6e18 fJ");
    CHECK(o.r.energy_by_component[CHIPEMU_E_STATIC] > 0 && o.r.energy_fj > 0, "static energy");
    eng_out_free(&o);
}
