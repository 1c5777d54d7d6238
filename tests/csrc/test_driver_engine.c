/* test_driver_engine.c — the timing and energy engine from plain C (included by test_driver.c).
 *
 * A small log with hand-derived timing, every error path (status, the event and code it names, and
 * no crash), NULL and size checks, and random corruptions of a valid log. Every array is malloc'ed
 * at its exact size so ASan catches any overrun. The numbers match tests/engine_logs.tiny_params().
 */
#include <stddef.h>

static chipemu_link eng_links[4];
static uint32_t eng_dram_tile[1];

static chipemu_device_params eng_params(void) {
    chipemu_device_params p;
    memset(&p, 0, sizeof p);
    p.version = CHIPEMU_ENGINE_PARAMS_VERSION;
    p.n_chiplets = 4;
    p.tile_rows = p.tile_cols = 2;
    p.clock_ghz = 1.0;
    p.noc_hop_cycles = 2;
    p.noc_link_bytes_per_cycle = 32;
    p.noc_max_packet_bytes = 256;
    p.dma_inject_bytes_per_cycle = p.dma_eject_bytes_per_cycle = 64;
    p.dimc_rows = p.dimc_cols = 64;
    p.dimc_slots = 4;
    p.dimc_engines = 2;
    p.dimc_cell_bits = 8;
    p.dimc_input_bits_per_cycle = 1;
    p.dimc_pipeline_cycles = 4;
    p.dimc_io_bytes_per_cycle = 64;
    p.dimc_write_cycles_per_row = 1;
    p.dimc_write_overlaps_compute = 1;
    p.sram_port_bytes_per_cycle = 128;
    p.sram_capacity_bytes = 1 << 20;
    p.vec_lanes = 16;
    for (int k = 0; k < CHIPEMU_VOP_COUNT; k++) p.vec_cycles[k] = (k >= 4 && k <= 6) ? 4 : 1;
    const uint32_t ends[4][4] = {{0, 1, 1, 0}, {2, 3, 1, 0}, {0, 2, 2, 0}, {1, 3, 3, 1}};
    for (int l = 0; l < 4; l++) {
        chipemu_link k = {ends[l][0], ends[l][1], ends[l][2], ends[l][3], 16, 20, 100};
        eng_links[l] = k;
    }
    p.n_links = 4;
    p.links = eng_links;
    p.dram_channels = 1;
    eng_dram_tile[0] = 0;
    p.dram_channel_tile = eng_dram_tile;
    p.dram_bytes_per_cycle = 32;
    p.dram_latency_cycles = 100;
    p.host_bytes_per_cycle = 16;
    p.host_latency_cycles = 500;
    p.barrier_cycles = 10;
    p.fj_mac[CHIPEMU_FMT_INT8] = p.fj_mac[CHIPEMU_FMT_MXINT8] = p.fj_mac[CHIPEMU_FMT_MXINT4] = 100;
    p.fj_overhead_per_mac = 10;
    p.fj_dimc_row_write = 1000;
    p.fj_sram_read_bit = 2;
    p.fj_sram_write_bit = 3;
    p.fj_noc_bit_hop = 5;
    p.fj_dram_bit = 50;
    p.fj_host_bit = 70;
    for (int k = 0; k < CHIPEMU_VOP_COUNT; k++) p.fj_vec_op[k] = 10 * (k + 1);
    return p;
}

typedef struct {
    chipemu_engine_result r;
    int64_t n, n_res;
} eng_out;

static void eng_out_init(eng_out *o, const chipemu_device_params *p, int64_t n) {
    memset(o, 0, sizeof *o);
    o->n = n;
    o->n_res = chipemu_engine_resource_count(p);
    if (o->n_res < 1) o->n_res = 1;                  /* invalid params: the run refuses them first */
    uint32_t tiles = p->n_chiplets * p->tile_rows * p->tile_cols;
    o->r.start_cycles = xmalloc((size_t)n * 8);
    o->r.end_cycles = xmalloc((size_t)n * 8);
    o->r.busy_cycles = xmalloc((size_t)o->n_res * 8);
    o->r.energy_by_chiplet = xmalloc(((size_t)p->n_chiplets + 1) * 8);
    o->r.energy_by_tile = xmalloc(((size_t)tiles + 1) * 8);
    o->r.critical_path = xmalloc((size_t)n * 4);
    o->r.critical_path_capacity = n;
    o->r.energy_fj_event = xmalloc((size_t)n * 8);
}

static void eng_out_free(eng_out *o) {
    free(o->r.start_cycles);
    free(o->r.end_cycles);
    free(o->r.busy_cycles);
    free(o->r.energy_by_chiplet);
    free(o->r.energy_by_tile);
    free(o->r.critical_path);
    free(o->r.energy_fj_event);
}

static chipemu_event eng_event(uint8_t op, uint32_t tile, uint32_t step) {
    chipemu_event e;
    memset(&e, 0, sizeof e);
    e.op = op;
    e.tile = tile;
    e.step = step;
    e.fmt = e.fmt2 = -1;
    e.src0.buf = e.src1.buf = e.dst.buf = CHIPEMU_NO_BUF;
    return e;
}

static chipemu_range eng_rng(uint32_t buf, uint32_t off, uint32_t len) {
    chipemu_range r = {buf, off, len};
    return r;
}

/* buffers: 0 SRAM [0,64), 1 SRAM [64,320) x, 2 SRAM [320,1344) y, 3 DRAM ch 0, 4 HOST */
static const chipemu_buffer ENG_BUFS[5] = {
    {CHIPEMU_BUF_SRAM, 0, 0, 64}, {CHIPEMU_BUF_SRAM, 0, 64, 256}, {CHIPEMU_BUF_SRAM, 0, 320, 1024},
    {CHIPEMU_BUF_DRAM, 0, 0, 4096}, {CHIPEMU_BUF_HOST, 0, 0, 4096}};

/* The log: the 3-hop send chain (tile s -> s+1 in superstep s), then an MVM on tile 8. */
enum { ENG_N = 4 };

static void eng_log(chipemu_event *ev, uint32_t *peers) {
    for (uint32_t s = 0; s < 3; s++) {
        ev[s] = eng_event(CHIPEMU_OP_SEND, s, s);
        ev[s].a = 64;
        ev[s].src0 = ev[s].dst = eng_rng(0, 0, 64);
        ev[s].peer_first = s;
        ev[s].peer_count = 1;
        peers[s] = s + 1;
    }
    ev[3] = eng_event(CHIPEMU_OP_DIMC_MVM, 8, 3);
    ev[3].a = 4;
    ev[3].b = 64;
    ev[3].fmt = ev[3].fmt2 = CHIPEMU_FMT_INT8;
    ev[3].src0 = eng_rng(1, 0, 256);
    ev[3].dst = eng_rng(2, 0, 1024);
}

static int32_t eng_run(const chipemu_device_params *p, const chipemu_event *ev, int64_t n,
                       const uint32_t *peers, int64_t np, eng_out *o) {
    chipemu_event *evc = xmalloc((size_t)(n ? n : 1) * sizeof *evc);    /* exact-size copies */
    uint32_t *pc = xmalloc((size_t)(np ? np : 1) * 4);
    chipemu_buffer *bc = xmalloc(sizeof ENG_BUFS);
    memcpy(evc, ev, (size_t)n * sizeof *evc);
    memcpy(pc, peers, (size_t)np * 4);
    memcpy(bc, ENG_BUFS, sizeof ENG_BUFS);
    int32_t st = chipemu_engine_run(p, evc, n, pc, np, bc, 5, &o->r);
    free(evc);
    free(pc);
    free(bc);
    return st;
}

static void test_engine_timing(void) {
    chipemu_device_params p = eng_params();
    chipemu_event ev[ENG_N];
    uint32_t peers[3];
    eng_log(ev, peers);
    eng_out o;
    eng_out_init(&o, &p, ENG_N);
    CHECK_ST(eng_run(&p, ev, ENG_N, peers, 3, &o), CHIPEMU_OK, "engine_run");
    const int64_t want_start[ENG_N] = {0, 4, 10, 0}, want_end[ENG_N] = {4, 10, 14, 36};
    for (int i = 0; i < ENG_N; i++)
        CHECK(o.r.start_cycles[i] == want_start[i] && o.r.end_cycles[i] == want_end[i],
              "event %d: [%lld, %lld), want [%lld, %lld)", i, (long long)o.r.start_cycles[i],
              (long long)o.r.end_cycles[i], (long long)want_start[i], (long long)want_end[i]);
    CHECK(o.r.makespan_cycles == 36, "makespan %lld", (long long)o.r.makespan_cycles);
    CHECK(o.r.critical_path_len == 1 && o.r.critical_path[0] == 3 &&
          o.r.critical_class == CHIPEMU_RES_DIMC && o.r.critical_cycles[CHIPEMU_RES_DIMC] == 36,
          "critical path: %lld ops, class %d", (long long)o.r.critical_path_len, (int)o.r.critical_class);
    /* energy: sends 3 x 512 bits x (2 + 3) + 4 link hops x 512 x 5; MVM 16384 MACs x (100 + 10),
     * SRAM 256 B read, 1024 B written */
    int64_t sends = 3 * 512 * 5 + 4 * 512 * 5, mvm = 16384 * 110 + 256 * 8 * 2 + 1024 * 8 * 3;
    CHECK(o.r.energy_fj == sends + mvm, "energy %lld, want %lld", (long long)o.r.energy_fj,
          (long long)(sends + mvm));
    int64_t sum_c = 0, sum_t = 0, sum_o = 0, sum_k = 0;
    for (int k = 0; k < CHIPEMU_E_COUNT; k++) sum_c += o.r.energy_by_component[k];
    for (int k = 0; k <= 16; k++) sum_t += o.r.energy_by_tile[k];
    for (int k = 0; k <= 4; k++) sum_k += o.r.energy_by_chiplet[k];
    for (int k = 0; k < CHIPEMU_OP_COUNT; k++) sum_o += o.r.energy_by_op[k];
    CHECK(sum_c == o.r.energy_fj && sum_t == o.r.energy_fj && sum_o == o.r.energy_fj &&
          sum_k == o.r.energy_fj, "breakdowns do not sum to the total");
    CHECK(o.r.energy_by_op[CHIPEMU_OP_SEND] == sends && o.r.energy_by_op[CHIPEMU_OP_DIMC_MVM] == mvm,
          "energy by op");
    /* per event: 512 bits x (2 + 3) SRAM plus 512 x 5 per link (0->1: 1, 1->2: 2, 2->3: 1) */
    const int64_t want_e[ENG_N] = {2 * 2560, 3 * 2560, 2 * 2560, mvm};
    for (int i = 0; i < ENG_N; i++)
        CHECK(o.r.energy_fj_event[i] == want_e[i], "event %d energy %lld, want %lld", i,
              (long long)o.r.energy_fj_event[i], (long long)want_e[i]);
    /* resources: the table agrees with the count, and MVM busy cycles land on tile 8 engine 0 */
    int64_t nr = o.n_res;
    CHECK(nr == 16 * 8 + 32 + 8 + 4 + 1, "resource count %lld", (long long)nr);
    int32_t *cls = xmalloc((size_t)nr * 4), *chip = xmalloc((size_t)nr * 4);
    int32_t *tile = xmalloc((size_t)nr * 4), *idx = xmalloc((size_t)nr * 4);
    CHECK_ST(chipemu_engine_resources(&p, nr, cls, chip, tile, idx), CHIPEMU_OK, "engine_resources");
    CHECK_ST(chipemu_engine_resources(&p, nr - 1, cls, chip, tile, idx), CHIPEMU_ERR_SIZE, "resources(n)");
    CHECK_ST(chipemu_engine_resources(&p, nr, NULL, chip, tile, idx), CHIPEMU_ERR_NULL, "resources(NULL)");
    int64_t r8 = 8 * 8;                                       /* tile 8's first resource */
    CHECK(cls[r8] == CHIPEMU_RES_DIMC && tile[r8] == 8 && chip[r8] == 2 && idx[r8] == 0 &&
          o.r.busy_cycles[r8] == 36, "tile 8 engine 0: class %d tile %d busy %lld", (int)cls[r8],
          (int)tile[r8], (long long)o.r.busy_cycles[r8]);
    CHECK(cls[nr - 1] == CHIPEMU_RES_HOST && chip[nr - 1] == -1 && tile[nr - 1] == -1, "host last");
    free(cls); free(chip); free(tile); free(idx);
    /* deterministic, whatever the thread count: more runs give the same bytes */
    for (int32_t th = 0; th <= 3; th++) {
        eng_out o2;
        eng_out_init(&o2, &p, ENG_N);
        o2.r.threads = th;
        CHECK_ST(eng_run(&p, ev, ENG_N, peers, 3, &o2), CHIPEMU_OK, "engine_run again");
        CHECK(memcmp(o.r.end_cycles, o2.r.end_cycles, ENG_N * 8) == 0 && o.r.energy_fj == o2.r.energy_fj &&
              memcmp(o.r.start_cycles, o2.r.start_cycles, ENG_N * 8) == 0 &&
              memcmp(o.r.energy_fj_event, o2.r.energy_fj_event, ENG_N * 8) == 0 &&
              memcmp(o.r.busy_cycles, o2.r.busy_cycles, (size_t)nr * 8) == 0, "run with %d threads differs",
              (int)th);
        eng_out_free(&o2);
    }
    /* the message model moves a one-packet message exactly as the packet model: same outputs */
    chipemu_device_params pm = p;
    pm.network = CHIPEMU_NET_MESSAGE;
    eng_out om;
    eng_out_init(&om, &pm, ENG_N);
    CHECK_ST(eng_run(&pm, ev, ENG_N, peers, 3, &om), CHIPEMU_OK, "engine_run, message model");
    CHECK(memcmp(o.r.end_cycles, om.r.end_cycles, ENG_N * 8) == 0 &&
          memcmp(o.r.start_cycles, om.r.start_cycles, ENG_N * 8) == 0 && o.r.energy_fj == om.r.energy_fj &&
          memcmp(o.r.energy_fj_event, om.r.energy_fj_event, ENG_N * 8) == 0 &&
          memcmp(o.r.busy_cycles, om.r.busy_cycles, (size_t)nr * 8) == 0, "message model differs");
    eng_out_free(&om);
    /* tree multicast: tile 0 sends 1 KB to its chiplet's tiles 1, 2, 3 and to tile 5 (chiplet 1):
     * the tree crosses 3 NoC links (unicast routes: 4), the remote stream 2 + 1 D2D link */
    {
        chipemu_event mc[1];
        uint32_t mp[4] = {3, 5, 1, 2};
        mc[0] = eng_event(CHIPEMU_OP_SEND, 0, 0);
        mc[0].a = 1024;
        mc[0].src0 = mc[0].dst = eng_rng(2, 0, 1024);
        mc[0].peer_count = 4;
        for (uint32_t net = 0; net < CHIPEMU_NET_COUNT; net++) {
            int64_t noc[2];
            for (uint32_t mode = 0; mode < CHIPEMU_MCAST_COUNT; mode++) {
                chipemu_device_params pt = p;
                pt.network = net;
                pt.noc_multicast = mode;
                eng_out ot;
                eng_out_init(&ot, &pt, 1);
                ot.r.threads = 1 + (int32_t)mode;
                CHECK_ST(eng_run(&pt, mc, 1, mp, 4, &ot), CHIPEMU_OK, "multicast run");
                noc[mode] = ot.r.energy_by_component[CHIPEMU_E_NOC];
                eng_out_free(&ot);
            }
            CHECK(noc[0] == 8192 * 5 * (4 + 2) && noc[1] == 8192 * 5 * (3 + 2),
                  "multicast NoC energy %lld / %lld", (long long)noc[0], (long long)noc[1]);
        }
    }
    /* an empty log */
    CHECK_ST(chipemu_engine_run(&p, NULL, 0, NULL, 0, NULL, 0, &o.r), CHIPEMU_OK, "empty log");
    CHECK(o.r.makespan_cycles == 0 && o.r.energy_fj == 0 && o.r.critical_class == -1, "empty log outputs");
    eng_out_free(&o);
}

/* One corrupted record: status CHIPEMU_ERR_LOG naming that event and that code. */
static void eng_expect(const char *what, chipemu_event *ev, int64_t n, uint32_t *peers, int64_t np,
                       int64_t event, int32_t code) {
    chipemu_device_params p = eng_params();
    eng_out o;
    eng_out_init(&o, &p, n);
    int32_t st = eng_run(&p, ev, n, peers, np, &o);
    CHECK(st == CHIPEMU_ERR_LOG && o.r.error.event == event && o.r.error.code == code,
          "%s: status %d event %lld code %d (%s), want event %lld code %d", what, (int)st,
          (long long)o.r.error.event, (int)o.r.error.code, chipemu_engine_error_string(o.r.error.code),
          (long long)event, (int)code);
    eng_out_free(&o);
}

static void test_engine_log_errors(void) {
    chipemu_event ev[ENG_N + 2];
    uint32_t peers[4] = {0};
#define CASE(what, change, event, code)                                         \
    do {                                                                        \
        eng_log(ev, peers);                                                     \
        change;                                                                 \
        eng_expect(what, ev, ENG_N, peers, 3, event, code);                     \
    } while (0)
    CASE("op 0", ev[1].op = 0, 1, CHIPEMU_EE_OP);
    CASE("op 9", ev[1].op = 9, 1, CHIPEMU_EE_OP);
    CASE("tile", ev[2].tile = 16, 2, CHIPEMU_EE_TILE);
    CASE("step", ev[2].step = 0, 2, CHIPEMU_EE_STEP);
    CASE("no peers", ev[1].peer_count = 0, 1, CHIPEMU_EE_PEERS);
    CASE("peer slice", ev[1].peer_first = 3, 1, CHIPEMU_EE_PEERS);
    CASE("peer slice overflow", ev[1].peer_first = UINT32_MAX, 1, CHIPEMU_EE_PEERS);
    CASE("peer", peers[1] = 16, 1, CHIPEMU_EE_PEER);
    CASE("buffer", ev[0].src0.buf = 5, 0, CHIPEMU_EE_BUFFER);
    CASE("no buffer", ev[0].dst.buf = CHIPEMU_NO_BUF, 0, CHIPEMU_EE_BUFFER);
    CASE("kind", ev[0].dst = eng_rng(3, 0, 64), 0, CHIPEMU_EE_BUFFER_KIND);
    CASE("range", ev[0].src0 = eng_rng(0, 32, 64), 0, CHIPEMU_EE_RANGE);
    CASE("range overflow", ev[0].src0 = eng_rng(0, UINT32_MAX, 64), 0, CHIPEMU_EE_RANGE);
    CASE("zero bytes", (ev[0].a = 0, ev[0].src0.len = ev[0].dst.len = 0), 0, CHIPEMU_EE_LENGTH);
    CASE("length", ev[0].a = 32, 0, CHIPEMU_EE_LENGTH);
    CASE("engine", ev[3].unit = 2, 3, CHIPEMU_EE_ENGINE);
    CASE("slot", ev[3].c = 4, 3, CHIPEMU_EE_SLOT);
    CASE("rows", ev[3].b = 65, 3, CHIPEMU_EE_ROWS);
    CASE("fmt", ev[3].fmt = 13, 3, CHIPEMU_EE_FORMAT);
    CASE("fmt2", ev[3].fmt2 = -1, 3, CHIPEMU_EE_FORMAT);
    CASE("fmt on send", ev[1].fmt = -2, 1, CHIPEMU_EE_FORMAT);
    CASE("vec kind", (ev[3].op = CHIPEMU_OP_VEC, ev[3].c = CHIPEMU_VOP_COUNT), 3, CHIPEMU_EE_VOP);
    CASE("load rows", (ev[3].op = CHIPEMU_OP_DIMC_LOAD, ev[3].a = 60, ev[3].b = 8), 3, CHIPEMU_EE_ROWS);
    CASE("dram read kind", ev[1].op = CHIPEMU_OP_DRAM_READ, 1, CHIPEMU_EE_BUFFER_KIND);
    CASE("host read kind", (ev[1].op = CHIPEMU_OP_HOST_READ, ev[1].src0 = eng_rng(3, 0, 64)), 1,
         CHIPEMU_EE_BUFFER_KIND);
    CASE("barrier without issuer", (ev[1] = eng_event(CHIPEMU_OP_BARRIER, 1, 1), ev[1].peer_first = 2,
                                    ev[1].peer_count = 1), 1, CHIPEMU_EE_BARRIER_GROUP);
    /* barrier groups: not ascending; unmatched */
    eng_log(ev, peers);
    peers[0] = 1;
    peers[1] = 0;
    ev[1] = eng_event(CHIPEMU_OP_BARRIER, 1, 1);
    ev[1].peer_first = 0;
    ev[1].peer_count = 2;
    eng_expect("barrier order", ev, ENG_N, peers, 3, 1, CHIPEMU_EE_BARRIER_GROUP);
    eng_log(ev, peers);
    peers[0] = 0;
    peers[1] = 1;
    ev[1] = eng_event(CHIPEMU_OP_BARRIER, 1, 1);
    ev[1].peer_count = 2;
    eng_expect("barrier unmatched", ev, ENG_N, peers, 3, 1, CHIPEMU_EE_BARRIER_MATCH);
    /* a deadlock: tile 0 sends into tile 1's buffer 0, both meet at a barrier, then tile 1 reads
     * buffer 0 in the same superstep */
    uint32_t grp[3] = {1, 0, 1};
    chipemu_event dl[4];
    dl[0] = eng_event(CHIPEMU_OP_SEND, 0, 0);
    dl[0].a = 64;
    dl[0].src0 = dl[0].dst = eng_rng(0, 0, 64);
    dl[0].peer_first = 0;
    dl[0].peer_count = 1;
    dl[1] = eng_event(CHIPEMU_OP_BARRIER, 0, 0);
    dl[1].peer_first = 1;
    dl[1].peer_count = 2;
    dl[2] = dl[1];
    dl[2].tile = 1;
    dl[3] = eng_event(CHIPEMU_OP_VEC, 1, 0);
    dl[3].a = 16;
    dl[3].src0 = eng_rng(0, 0, 64);
    dl[3].dst = eng_rng(1, 0, 64);
    eng_expect("cycle", dl, 4, grp, 3, 0, CHIPEMU_EE_CYCLE);
    /* unlinked chiplets: refused with the parameters (as Device refuses them), before any log */
    {
        chipemu_device_params p = eng_params();
        p.n_links = 0;
        eng_log(ev, peers);
        peers[0] = 4;
        eng_out o;
        eng_out_init(&o, &p, ENG_N);
        CHECK(eng_run(&p, ev, ENG_N, peers, 3, &o) == CHIPEMU_ERR_PARAMS && o.r.error.event == -1 &&
              o.r.error.code == CHIPEMU_EE_NO_ROUTE && o.r.error.value == 1,
              "no route: code %d value %lld", (int)o.r.error.code, (long long)o.r.error.value);
        eng_out_free(&o);
    }
#undef CASE
}

static void test_engine_pointers_and_sizes(void) {
    chipemu_device_params p = eng_params();
    chipemu_event ev[ENG_N];
    uint32_t peers[3];
    eng_log(ev, peers);
    eng_out o;
    eng_out_init(&o, &p, ENG_N);
    chipemu_buffer *b = xmalloc(sizeof ENG_BUFS);
    memcpy(b, ENG_BUFS, sizeof ENG_BUFS);
    CHECK_ST(chipemu_engine_run(NULL, ev, ENG_N, peers, 3, b, 5, &o.r), CHIPEMU_ERR_NULL, "run(p NULL)");
    CHECK_ST(chipemu_engine_run(&p, ev, ENG_N, peers, 3, b, 5, NULL), CHIPEMU_ERR_NULL, "run(out NULL)");
    CHECK_ST(chipemu_engine_run(&p, NULL, ENG_N, peers, 3, b, 5, &o.r), CHIPEMU_ERR_NULL, "run(events NULL)");
    CHECK_ST(chipemu_engine_run(&p, ev, ENG_N, NULL, 3, b, 5, &o.r), CHIPEMU_ERR_NULL, "run(peers NULL)");
    CHECK_ST(chipemu_engine_run(&p, ev, ENG_N, peers, 3, NULL, 5, &o.r), CHIPEMU_ERR_NULL, "run(buffers NULL)");
    CHECK_ST(chipemu_engine_run(&p, ev, -1, peers, 3, b, 5, &o.r), CHIPEMU_ERR_SIZE, "run(n < 0)");
    CHECK_ST(chipemu_engine_run(&p, ev, ENG_N, peers, -1, b, 5, &o.r), CHIPEMU_ERR_SIZE, "run(peers < 0)");
    CHECK_ST(chipemu_engine_run(&p, ev, ENG_N, peers, 3, b, -5, &o.r), CHIPEMU_ERR_SIZE, "run(buffers < 0)");
    int64_t *keep = o.r.busy_cycles;
    o.r.busy_cycles = NULL;
    CHECK_ST(chipemu_engine_run(&p, ev, ENG_N, peers, 3, b, 5, &o.r), CHIPEMU_ERR_NULL, "run(busy NULL)");
    o.r.busy_cycles = keep;
    int32_t *path = o.r.critical_path;
    o.r.critical_path = NULL;
    CHECK_ST(chipemu_engine_run(&p, ev, ENG_N, peers, 3, b, 5, &o.r), CHIPEMU_ERR_NULL, "run(path NULL)");
    o.r.critical_path_capacity = 0;                          /* no path wanted: NULL is fine */
    int64_t *per_event = o.r.energy_fj_event;
    o.r.energy_fj_event = NULL;                              /* no per-event energy: fine too */
    CHECK_ST(chipemu_engine_run(&p, ev, ENG_N, peers, 3, b, 5, &o.r), CHIPEMU_OK, "run(no path)");
    CHECK(o.r.critical_path_len == 1, "path length without a buffer");
    o.r.energy_fj_event = per_event;
    o.r.critical_path = path;
    o.r.critical_path_capacity = ENG_N;
    /* an SRAM buffer beyond the SRAM, a DRAM buffer on a missing channel, an unknown kind */
    chipemu_buffer bad[3] = {{CHIPEMU_BUF_SRAM, 0, 1 << 20, 1}, {CHIPEMU_BUF_DRAM, 4, 0, 64}, {3, 0, 0, 1}};
    for (int k = 0; k < 3; k++) {
        chipemu_buffer *bb = xmalloc(sizeof *bb);
        *bb = bad[k];
        int32_t st = chipemu_engine_run(&p, NULL, 0, NULL, 0, bb, 1, &o.r);
        CHECK(st == CHIPEMU_ERR_LOG && o.r.error.code == CHIPEMU_EE_BUFFER_TABLE && o.r.error.event == -1,
              "bad buffer %d: status %d code %d", k, (int)st, (int)o.r.error.code);
        free(bb);
    }
    free(b);
    eng_out_free(&o);
}

/* Random single-byte corruptions of a valid log: a status, never a crash (ASan/UBSan watch). */
static void test_engine_fuzz(void) {
    chipemu_device_params p = eng_params();
    chipemu_event ev[ENG_N];
    uint32_t peers[3];
    int ok = 0, bad = 0;
    for (int trial = 0; trial < 3000; trial++) {
        eng_log(ev, peers);
        uint8_t *raw = (uint8_t *)ev;
        int flips = 1 + (int)(rng() % 3);
        for (int f = 0; f < flips; f++) raw[rng() % sizeof ev] = (uint8_t)rng();
        if (rng() % 4 == 0) peers[rng() % 3] = rng() % 20;
        eng_out o;
        eng_out_init(&o, &p, ENG_N);
        o.r.threads = trial % 4 == 0 ? 2 : 1;                /* the worker thread too */
        p.network = trial % 3 == 0 ? CHIPEMU_NET_MESSAGE : CHIPEMU_NET_PACKET;    /* both models */
        p.noc_multicast = trial % 5 < 2 ? CHIPEMU_MCAST_TREE : CHIPEMU_MCAST_UNICAST;
        int32_t st = eng_run(&p, ev, ENG_N, peers, 3, &o);
        if (st == CHIPEMU_OK) {
            int64_t sum = 0, sum_e = o.r.energy_by_component[CHIPEMU_E_STATIC];
            for (int k = 0; k <= 16; k++) sum += o.r.energy_by_tile[k];
            for (int k = 0; k < ENG_N; k++) sum_e += o.r.energy_fj_event[k];
            CHECK(sum == o.r.energy_fj && sum_e == o.r.energy_fj, "fuzz %d: energies do not sum", trial);
            ok++;
        } else {
            CHECK(st == CHIPEMU_ERR_LOG && o.r.error.code > CHIPEMU_EE_NONE && o.r.error.code < CHIPEMU_EE_COUNT,
                  "fuzz %d: status %d code %d", trial, (int)st, (int)o.r.error.code);
            bad++;
        }
        eng_out_free(&o);
    }
    CHECK(ok > 0 && bad > 0, "fuzz: %d ok, %d rejected", ok, bad);
}

static void test_engine_strings(void) {
    const int32_t st[3] = {CHIPEMU_ERR_LOG, CHIPEMU_ERR_PARAMS, CHIPEMU_ERR_NOMEM};
    const char *unknown = chipemu_status_string(-1);
    for (int k = 0; k < 3; k++) {
        CHECK(strcmp(chipemu_status_string(st[k]), unknown) != 0, "status_string(%d)", (int)st[k]);
        for (int j = 0; j < k; j++)
            CHECK(strcmp(chipemu_status_string(st[k]), chipemu_status_string(st[j])) != 0, "status strings");
    }
    const char *eunknown = chipemu_engine_error_string(-1);
    for (int32_t c = 0; c < CHIPEMU_EE_COUNT; c++) {
        const char *m = chipemu_engine_error_string(c);
        CHECK(m != NULL && strcmp(m, eunknown) != 0, "engine_error_string(%d)", (int)c);
        for (int32_t d = 0; d < c; d++)
            CHECK(strcmp(m, chipemu_engine_error_string(d)) != 0, "engine errors %d, %d share text", (int)c, (int)d);
    }
    CHECK(strcmp(chipemu_engine_error_string(CHIPEMU_EE_COUNT), eunknown) == 0, "engine_error_string(COUNT)");
}

#include "test_driver_engine_limits.c"   /* test_engine_param_errors, test_engine_overflow */

static void test_engine(void) {
    test_engine_timing();
    test_engine_log_errors();
    test_engine_param_errors();
    test_engine_pointers_and_sizes();
    test_engine_fuzz();
    test_engine_overflow();
    test_engine_strings();
}
