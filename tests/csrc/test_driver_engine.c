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

static void test_engine(void) {
    test_engine_timing();
    test_engine_log_errors();
    test_engine_param_errors();
    test_engine_pointers_and_sizes();
    test_engine_fuzz();
    test_engine_overflow();
    test_engine_strings();
}
