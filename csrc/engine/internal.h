/* engine/internal.h — state shared by the timing and energy engine's files (not public API).
 *
 *   engine.c  entry points, device parameters, resource numbering, routing, the run
 *   log.c     log validation (with the energy pass), barrier groups and instances
 *   layout.c  the op records in rank order, unit chains
 *   hazard.c  the hazard walk: RAW/WAR/WAW predecessors, written to the edge stream
 *   walk.c/h  the walk's state, setup and barrier fences
 *   admit.c   the edge stream and admission of ops into the simulation
 *   queue.c   the event queue (calendar ring of cycles + heaps)
 *   sim.c     the discrete-event simulation: compute ops, completion, barriers
 *   packet.c  the discrete-event simulation: DMA ops as packets hop by hop (or as messages)
 *   hop.h     slots, trackers and the per-hop arithmetic packet.c and mcast.c share
 *   mcast.c   tree multicast: the tree's shape, its links, and a branch forking at its node
 *   path.c    the critical path, times in log order
 *   energy.c  the energy function (per event, per bucket)
 *   par.c     the worker thread (no result ever depends on it)
 *
 * Semantics: docs/engine.md (section 10 describes this structure). Every function returns a
 * chipemu status; errors fill ctx->err.
 *
 * Index spaces: the log index x of an event, and its rank r = position in (issuing tile, log
 * index) order. All simulation state lives in rank order, so the records of one tile's program are
 * adjacent in memory and the simulation walks them nearly sequentially (a log in superstep order
 * interleaves all tiles). idx[r] maps a rank back to its log index.
 */
#ifndef CHIPEMU_ENGINE_INTERNAL_H
#define CHIPEMU_ENGINE_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "chipemu.h"

#define EN_MAX_EVENTS (((int64_t)1 << 30) - 1)     /* successor entries keep 2 flag bits */
#define EN_TIME_LIMIT ((int64_t)1 << 62)

/* how an op's ready time was bound (info bits 0-2; bits 3-6: the class it waited for, + 1) */
#define EN_BND_NONE 0
#define EN_BND_UNIT 1     /* the previous op on the same unit released it */
#define EN_BND_DONE 2     /* a hazard predecessor or a barrier completed */
#define EN_BND_BARRIER 3  /* barrier op: bound by the latest member's predecessor */
#define EN_BND_READ 4     /* a reader predecessor finished reading (WAR) */
#define EN_BND_MASK 7
#define EN_WAIT_SHIFT 3

/* packet stages (en_pkt.stage bits 0-3) and flags */
#define EN_ST_SRC 1       /* source SRAM read (the inject port follows inline) */
#define EN_ST_DRAMR 2     /* DRAM channel read */
#define EN_ST_HOST 3      /* host link */
#define EN_ST_NOC 4       /* a NoC link or a D2D link */
#define EN_ST_EJECT 5     /* destination eject port */
#define EN_ST_DST 6       /* destination SRAM write (last) */
#define EN_ST_DRAMW 7     /* DRAM channel write (last) */
#define EN_ST_FIN 8       /* message model: delivered unless its read was interrupted meanwhile */
#define EN_F_LAST_STREAM 0x10
#define EN_F_LAST_OP 0x20
#define EN_F_TO_DRAM 0x40
#define EN_F_GATED 0x80       /* a SEND with delivery hazards: its destination writes may wait */

/* the DMA-op breakdown keeps classes CHIPEMU_RES_SRAM .. CHIPEMU_RES_HOST, then a flag: the
 * packet's destination write waited for the op's delivery hazards */
#define EN_BD_FIRST CHIPEMU_RES_SRAM
#define EN_BD_N (CHIPEMU_RES_HOST - CHIPEMU_RES_SRAM + 1)
#define EN_BD_HELD EN_BD_N
#define EN_BD_STRIDE (EN_BD_N + 1)

/* successor entries (ranks): bit 31 set = a delivery dependency (it gates a SEND's destination
 * writes); bit 30 set = it waits for the predecessor's read to finish (WAR), not its completion */
#define EN_DELIVERY 0x80000000u
#define EN_READ 0x40000000u
#define EN_SUCC_MASK 0x3FFFFFFFu
#define EN_SUCC_INLINE 4        /* successor entries kept in the op record; more go to chunks */
#define EN_SUCC_CHUNK 7

/* ---- the event queue (queue.c) ---- */

typedef struct { uint64_t key; uint32_t ref, pad; } en_qe;        /* key, and what to run */
typedef struct { int64_t cycle; uint64_t key; uint32_t ref, pad; } en_qc;   /* ... with its cycle */
#define EN_REF_PKT 0x80000000u   /* ref: packet slot | EN_REF_PKT, or the rank of a compute op */

typedef struct {            /* a packet in flight: updated in place hop by hop (one cache line) */
    uint64_t pkt;           /* packet index within its op (streams in peer order) */
    uint32_t op;            /* rank */
    uint32_t res;           /* channel of the next hop */
    uint32_t cur;           /* global tile the packet is at once through that channel */
    uint32_t tgt;           /* global tile the NoC part of the route heads for */
    uint32_t bytes;
    int32_t trk;            /* tracker of a stream's last packet, -1 otherwise */
    uint32_t pid;           /* properties of that channel (en_cprop) */
    uint32_t cch;           /* chiplet of cur */
    uint32_t lag;           /* message model: cycles from the head's arrival at the next channel to
                             * the tail's (0 for a packet); fits: lag <= the slowest ser <= 2^32-1 */
    uint32_t crow, ccol;    /* local coordinates of cur ... */
    uint32_t lrow, lcol;    /* ... and of the tile the NoC leg heads for (tgt, or the next PHY) */
    uint16_t hop;           /* hop number of the next hop (saturates at 0xFFFF) */
    uint8_t stage;          /* EN_ST_* | EN_F_* of the next hop */
    uint8_t cross;          /* the leg ends at a PHY: then the D2D link */
} en_pkt;
_Static_assert(sizeof(en_pkt) == 64, "en_pkt is one cache line");

#define EN_Q_CHUNK 63
typedef struct { int32_t next, n; en_qe e[EN_Q_CHUNK]; } en_qchunk;

typedef struct {
    int64_t now;
    int hop_bits;           /* key = rank << 32 | pkt << hop_bits | hop; */
    int wide;               /* ... unless pkt or hop do not fit: then compare the slots' fields */
    const en_pkt *pk;       /* the packet slots (for wide comparisons) */
    en_qchunk *ch;          /* chunk pool; free list through next */
    int64_t ch_n, ch_cap;
    int32_t ch_free;
    int32_t *head, *tail;   /* [EN_Q_W] chunk lists of the ring's buckets */
    uint64_t *bits;         /* non-empty buckets */
    int64_t ring_n;
    en_qe *cur, *tmp;       /* the current cycle's items, sorted */
    int64_t cur_n, cur_pos, cur_cap, tmp_cap;
    en_qc *late;            /* heap: items pushed for the current cycle after it was sorted */
    int64_t late_n, late_cap;
    en_qc *ov;              /* heap: items beyond the ring's window */
    int64_t ov_n, ov_cap;
} en_queue;

/* ---- per-op state, rank order ---- */

typedef struct {            /* one cache line */
    int64_t start;          /* ready cycle until the op starts, then its start */
    int32_t pending;        /* unresolved predecessors; running DMA op: streams in flight; done: its seq */
    int32_t bnd;            /* rank of the predecessor that bound the ready time, -1 none */
    int32_t next_unit;      /* rank of the next op on the same unit, -1 none */
    uint32_t occ_a;         /* compute: unit occupancy (MVM: duration); DMA: bytes */
    union {
        uint32_t occ_b;     /* VEC, DIMC_LOAD: SRAM occupancy */
        int32_t aux;        /* DMA: ordinal (rank order) in dmax; BARRIER: instance */
    };
    uint32_t tile;
    uint8_t op;             /* CHIPEMU_OP_* */
    uint8_t info;           /* EN_BND_* | (wait class + 1) << EN_WAIT_SHIFT */
    uint8_t unit;           /* DIMC engine */
    uint8_t flags;          /* EN_OP_* */
    uint32_t n_succ;        /* successor entries: succ[], then chunks ovf_head .. ovf_tail */
    int32_t succ[EN_SUCC_INLINE];
    int32_t ovf_head, ovf_tail;
} en_op;
#define EN_OP_BIG 1         /* an occupancy did not fit 32 bits: recompute from the record */
#define EN_OP_DONE 4        /* completed */
#define EN_OP_ADMITTED 8    /* its predecessor list was admitted (admit.c) */
_Static_assert(sizeof(en_op) == 64, "en_op is one cache line");

/* successor entries (rank | EN_DELIVERY | EN_READ) beyond the record's: chunks, in order */
typedef struct { int32_t next; int32_t e[EN_SUCC_CHUNK]; } en_schunk;

typedef struct {            /* per DMA op: delivery hazards (only SENDs have any), read completion */
    int64_t ready;          /* when the last delivery hazard cleared */
    int64_t read_done;      /* when the last packet finished reading its source (-1 before) */
    int64_t end;            /* the latest delivery so far, then completion */
    int32_t pending;        /* unresolved delivery hazards */
    int32_t bnd;            /* the one that cleared last (rank), -1 none */
    int32_t parked;         /* packets waiting at their destination write, a list in ctx->park */
    uint32_t where;         /* SEND: peer_first; DRAM ops: channel */
    uint32_t read_seq;      /* ctx->seq when its read finished */
    uint16_t streams;       /* destinations (1 unless SEND) */
    uint8_t bkind;          /* EN_BND_DONE or EN_BND_READ: how bnd cleared */
    uint8_t deliv_ok;       /* its delivery list was admitted */
    int32_t bd[EN_BD_STRIDE];   /* breakdown of the latest-delivered stream (critical path) */
} en_dmax;
_Static_assert(sizeof(en_dmax) == 80, "en_dmax is 80 bytes");

typedef struct { int64_t cycle; uint32_t slot; int32_t next; } en_parked;

/* a resource: the first cycle it is free, cycles busy, and (channels) the bytes still unused in
 * cycle free-1, which the next packet may fill: a channel moves bw bytes per cycle on average */
typedef struct { int64_t free, busy, spare; } en_resv;

/* message model: the message read or write in progress on a tile's SRAM port, which compute ops
 * may interrupt (en_preempt) */
typedef struct {
    int64_t cur, end;       /* the read's current run began at `cur` (its start, or when it resumed
                             * after a request took the port); the port is free at `end` unless
                             * something is reserved after it */
    uint64_t pkt;           /* the stream (packet index) and op whose read it is ... */
    uint32_t op;
    int32_t slot;           /* ... and the slot carrying it, -1 none */
} en_rdv;

typedef struct {            /* channel properties: per class (per link for D2D), see EN_PID_* */
    uint32_t bw, lat;
    uint32_t ser_full;      /* cycles for a full packet (noc_max_packet_bytes) */
    uint32_t cls;
} en_cprop;
#define EN_PID_D2D CHIPEMU_RES_COUNT    /* D2D link l: property id EN_PID_D2D + l; others: class */

typedef struct {
    int64_t peer_first;     /* the slice of the first barrier with this group */
    uint32_t count;
    uint32_t n_k, cap_k;
    uint32_t *seen;         /* [count]: barriers of this group seen per member position */
    int32_t *inst_of_k;     /* [n_k]: the k-th instance */
} en_group;

typedef struct {
    int64_t ready;          /* latest member arrival */
    int64_t off;            /* members[off .. off+count): member barrier op (rank) per position */
    int32_t group;
    uint32_t registered, arrived;
    int32_t bnd;            /* predecessor that bound the latest arrival */
} en_inst;

struct en_worker;

/* ---- the edge stream (admit.c): the hazard walk (hazard.c) publishes, in log order,
 * each op's predecessor list, and after each superstep one delivery list per SEND; the simulation
 * admits them on demand. Words: header (rank | EN_ENT_*), count, then count entries
 * (pred rank | EN_READ). Segments of EN_SEG_WORDS words, freed once read. ---- */
#define EN_ENT_OP 0x40000000u
#define EN_ENT_DELIV 0x80000000u
#define EN_SEG_WORDS (1 << 16)
typedef struct en_seg { struct en_seg *next; uint32_t w[EN_SEG_WORDS]; } en_seg;
typedef struct {            /* each thread's fields on their own cache lines (no false sharing) */
    _Alignas(64) en_seg *wseg;  /* producer: segment and index being written */
    uint32_t wi;
    uint64_t written;       /* words written (published or not) */
    _Alignas(64) en_seg *rseg;  /* consumer: segment and index being read */
    uint32_t ri;
    uint64_t read;
    uint64_t avail;         /* published, as the consumer last saw it */
    _Alignas(64) _Atomic uint64_t published;
    _Alignas(64) _Atomic uint64_t consumed;
    _Alignas(64) _Atomic int32_t finished;  /* producer status + 1 once it published everything */
    _Atomic int32_t stop;       /* the consumer gave up: the producer stops */
    _Atomic int32_t sleeping;   /* the producer waits for room (a condition variable in `sync`) */
    struct en_sync *sync;
    char pad[40];
} en_stream;

typedef struct en_ctx {
    const chipemu_device_params *p;
    const chipemu_event *ev;
    int64_t n;
    const uint32_t *peers;
    int64_t n_peers;
    const chipemu_buffer *buf;
    int64_t n_buf;
    chipemu_engine_result *out;
    chipemu_engine_error *err;
    int threads;            /* 1 or 2 */

    /* geometry and resources */
    uint32_t C, T, n_tiles, E, U, per_tile, n_chan;
    int64_t n_res, noc_base, d2d_base, dram_base, host_res;
    int32_t *noc_id;        /* [n_tiles * 4]: NoC link resource leaving a tile (E, W, S, N), -1 none */
    int32_t *next_link;     /* [C * C]: first D2D link on the route, -1 none */
    uint32_t max_route;     /* an upper bound of the channels on any route */
    en_resv *res;           /* [n_res] */
    en_rdv *rd;             /* [n_tiles]: message model only, the transfer on each SRAM port */
    en_cprop *cprop;        /* [EN_PID_D2D + n_links] */
    int32_t elem_bits[CHIPEMU_NUM_FORMATS];

    /* per op */
    en_op *ops;             /* [n], rank order */
    uint32_t *idx;          /* [n]: rank -> log index */
    uint32_t *tile_base;    /* [n_tiles]: first rank of each tile ... */
    uint32_t *dma_base;     /* ... and its first DMA ordinal */
    uint32_t *bar_count;    /* [n_tiles]: barriers of each tile */
    uint32_t *vcnt[2], *vdcnt[2];   /* validation parts' events and DMA ops per tile (layout) */
    int parts;              /* 1 or 2: how validation and layout split the log */
    en_schunk *sch;         /* successor chunks */
    int64_t sch_n, sch_cap;
    uint64_t max_packets;   /* most packets of one DMA op */

    /* barriers */
    en_group *groups;
    int32_t n_groups, cap_groups;
    int32_t *gtab;          /* open-addressing table of group ids, size gtab_cap */
    int64_t gtab_cap;
    en_inst *inst;
    int32_t n_inst, cap_inst;
    int32_t *members;
    int64_t n_members, cap_members;
    int64_t n_barriers, n_dma;

    /* simulation */
    en_dmax *dmax;          /* [n_dma], rank order */
    /* tree multicast (mcast.c): per DMA op the SEND's peers in tree order (offset into mc_dst, -1
     * not yet sorted) and how many are local; scratch for sorting */
    int64_t *mc_off;
    uint32_t *mc_nl, *mc_dst;
    int64_t mc_n, mc_cap;
    uint64_t *mc_scratch;   /* 2 x 65536 words */
    en_pkt *pk;             /* packet slots; free list through trk */
    int64_t pk_n, pk_cap;
    int32_t pk_free;
    en_parked *park;
    int64_t park_n, park_cap;
    int32_t park_free;
    int32_t *trk;           /* tracker pool [cap][EN_BD_STRIDE] */
    int32_t trk_n, trk_cap, trk_free;
    int32_t *bstack;        /* barrier instances completed, to propagate */
    int32_t bs_n, bs_cap;
    int64_t n_done;
    int64_t last_end;       /* the latest completion so far, and its op (lowest log index on ties) */
    int32_t last_op;
    en_queue q;

    /* the edge stream and admission */
    _Alignas(64) en_stream es;
    struct en_walk *walk;   /* the hazard walk's state (hazard.c) */
    int64_t admitted;       /* log index of the last op admitted, -1 none */
    int64_t last_first;     /* log index of the last op without a unit predecessor, -1 none */
    uint32_t seq;           /* completions and reads finished so far (ties among admitted preds) */
    struct en_imm *imm;     /* scratch: predecessors already resolved at admission */
    int64_t imm_cap;
    chipemu_engine_error walk_err;

    struct en_worker *wk;   /* the worker thread, NULL when single-threaded */
} en_ctx;

/* params.c: CHIPEMU_OK, or CHIPEMU_ERR_PARAMS with c->err naming the field, value and bound broken */
int32_t en_check_params(en_ctx *c, const chipemu_device_params *p);
/* engine.c */
int32_t en_fail(en_ctx *c, int32_t status, int64_t event, int32_t code, int32_t field, int64_t value,
                int64_t limit);
void *en_calloc(size_t n, size_t size);
void *en_big_alloc(size_t bytes);
int32_t en_grow(void **arr, int64_t *cap, int64_t need, size_t size);
/* per tile: DIMC engines 0..E-1, then DIMC_WRITE, VECTOR, DMA, SRAM, INJECT, EJECT (class order) */
static inline uint32_t en_res_engine(const en_ctx *c, uint32_t tile, uint32_t engine) {
    return tile * c->per_tile + engine;
}
static inline uint32_t en_res(const en_ctx *c, uint32_t tile, int cls) {
    return tile * c->per_tile + c->E + (uint32_t)(cls - CHIPEMU_RES_DIMC_WRITE);
}
static inline uint32_t en_unit_of(const en_ctx *c, const chipemu_event *e) {
    switch (e->op) {
    case CHIPEMU_OP_DIMC_MVM: return e->unit;
    case CHIPEMU_OP_DIMC_LOAD: return c->E;
    case CHIPEMU_OP_VEC: return c->E + 1;
    case CHIPEMU_OP_BARRIER: return c->E + 3;
    default: return c->E + 2;                              /* the DMA ops */
    }
}
static inline int en_is_dma(int op) {
    return op >= CHIPEMU_OP_SEND && op <= CHIPEMU_OP_HOST_READ;
}
/* the unit the simulation moves messages in: the NoC's packets, or (message model) a whole stream
 * (a message is at most 2^32 - 1 bytes) */
static inline uint64_t en_unit_bytes(const en_ctx *c) {
    return c->p->network == CHIPEMU_NET_MESSAGE ? UINT32_MAX : c->p->noc_max_packet_bytes;
}
static inline int64_t en_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static inline int64_t en_rlen(const chipemu_range *r) { return r->buf == CHIPEMU_NO_BUF ? 0 : r->len; }

typedef struct en_energy_acc en_energy_acc;
/* log.c: validation (and the energy pass, which needs the log only) */
int32_t en_validate(en_ctx *c, en_energy_acc *acc);
/* layout.c: op records in rank order, unit chains, barrier instances */
int32_t en_layout(en_ctx *c);

int32_t en_add_barrier(en_ctx *c, int64_t x, uint32_t r);
int32_t en_check_barriers(en_ctx *c);
void en_free_groups(en_ctx *c);

/* hazard.c: the hazard walk, one superstep per call (1: more to come, 0: done, < 0: -status) */
int32_t en_walk_init(en_ctx *c);
int en_walk_step(en_ctx *c);
void en_walk_free(en_ctx *c);

/* admit.c */
int32_t en_stream_init(en_stream *s);
void en_stream_free(en_stream *s);
void en_stream_stop(en_stream *s);
int32_t en_stream_grow(en_stream *s);
void en_stream_publish(en_stream *s);
int en_stream_wait_room(en_stream *s, int threaded, uint64_t safe);
void en_walk_task(void *arg);               /* the worker's loop: the whole walk */
int32_t en_admit_op(en_ctx *c, int32_t y); /* admit entries until op y (rank) is admitted */
int32_t en_admit_to(en_ctx *c, int64_t x); /* ... until the op at log index x is */
int32_t en_admit_deliv(en_ctx *c, int32_t z);   /* ... until SEND z's delivery list is */
int32_t en_admit_all(en_ctx *c);


/* queue.c */
int32_t en_q_init(en_queue *q, int hop_bits, int wide, const en_pkt *pk);
void en_q_free(en_queue *q);
int32_t en_q_push_slow(en_queue *q, int64_t cycle, uint64_t key, uint32_t ref);
int en_q_pop_slow(en_queue *q, en_qc *out);
#define EN_Q_BITS 12
#define EN_Q_W (1 << EN_Q_BITS)     /* the ring's window of cycles */
#define EN_Q_M (EN_Q_W - 1)

/* Queue (cycle, key, ref): the common case appends to the bucket's last chunk. */
static inline int32_t en_q_push(en_queue *q, int64_t cycle, uint64_t key, uint32_t ref) {
    int64_t d = cycle - q->now;
    if (__builtin_expect(d > 0 && d < EN_Q_W, 1)) {
        int32_t t = q->tail[(uint32_t)cycle & EN_Q_M];
        if (__builtin_expect(t >= 0 && q->ch[t].n < EN_Q_CHUNK, 1)) {
            en_qe *e = &q->ch[t].e[q->ch[t].n++];
            e->key = key;
            e->ref = ref;
            q->ring_n++;
            return CHIPEMU_OK;
        }
    }
    return en_q_push_slow(q, cycle, key, ref);
}

/* 1: *out is the smallest item; 0: empty; -1: out of memory. */
static inline int en_q_pop(en_queue *q, en_qc *out) {
    if (__builtin_expect(q->late_n == 0 && q->cur_pos < q->cur_n, 1)) {
        const en_qe *e = &q->cur[q->cur_pos++];
        out->cycle = q->now;
        out->key = e->key;
        out->ref = e->ref;
        return 1;
    }
    return en_q_pop_slow(q, out);
}
static inline uint64_t en_qkey(const en_queue *q, uint32_t rank, uint64_t pkt, uint32_t hop) {
    if (q->wide) return (uint64_t)rank << 32;              /* the rest compared from the slot */
    return (uint64_t)rank << 32 | (uint32_t)(pkt << q->hop_bits | hop);
}
/* sim.c: resolving and readying ops (admission uses them) */
int32_t en_resolve(en_ctx *c, int32_t y, int64_t t, int32_t pred, int kind);
int32_t en_resolve_delivery(en_ctx *c, int32_t y, int64_t t, int32_t pred, int kind);
int32_t en_op_ready(en_ctx *c, int32_t y);

/* sim.c */
typedef struct {            /* a compute op's costs */
    int64_t dur, unit_occ, sram_occ, write_occ;
} en_costs;
void en_compute_costs(const en_ctx *c, const chipemu_event *e, en_costs *k);
void en_init_op(en_ctx *c, int64_t x, uint32_t r, int32_t dma);
int64_t en_op_end(const en_ctx *c, int32_t r);
int32_t en_simulate(en_ctx *c);
uint32_t en_attach_tile(const en_ctx *c, uint32_t channel);
int32_t en_complete(en_ctx *c, int32_t x, int64_t t);
int32_t en_read_done(en_ctx *c, int32_t x, int64_t t);
int32_t en_release_unit(en_ctx *c, int32_t x, int64_t t);

/* packet.c (slots, trackers and per-hop arithmetic: hop.h) */
int64_t en_preempt(en_ctx *c, uint32_t tile, en_resv *port, int64_t ready, int64_t occ);
int32_t en_push_packet(en_ctx *c, int32_t x, uint64_t pkt, int64_t cycle);
int32_t en_hop(en_ctx *c, uint32_t slot, int64_t ready);

/* mcast.c */
#define EN_TREE 2           /* en_pkt.cross of a tree branch: tgt..lrow = its peers, lcol = kind */
#define EN_TK_ROOT 4        /* kind: at the source; else the direction it travels (0 E 1 W 2 S 3 N) */
#define EN_MC_SCRATCH 65536
uint32_t en_mcast_order(const en_ctx *c, uint32_t src, const uint32_t *peers, uint32_t n,
                        uint32_t *out, uint64_t *scratch);
int64_t en_mcast_edges(const en_ctx *c, uint32_t src, const uint32_t *peers, uint32_t n,
                       uint64_t *scratch);
const uint32_t *en_tree_peers(en_ctx *c, int32_t x, uint32_t *nl);
int32_t en_tree_fork(en_ctx *c, uint32_t s, int64_t s0, int64_t ser, int64_t lat, const en_cprop *q,
                     uint32_t cls, uint32_t hopn, int msg);

/* path.c */
int32_t en_critical_path(en_ctx *c);
void en_write_times(en_ctx *c, int64_t r0, int64_t r1);

/* energy.c: dynamic energy of events [x0, x1) into acc (and out->energy_fj_event) */
struct en_energy_acc {
    uint64_t *scratch;      /* tree multicast: 65536 words, else NULL */
    int64_t cost[CHIPEMU_NUM_FORMATS * CHIPEMU_NUM_FORMATS + 8 + CHIPEMU_VOP_COUNT];  /* fJ per action */
    int64_t *by_tile;       /* [n_tiles + 1] */
    int64_t by_component[CHIPEMU_E_COUNT];
    int64_t by_op[CHIPEMU_OP_COUNT];
    double over;            /* > 0: a sum did not fit int64 fJ (the largest such figure, fJ) */
};
int32_t en_energy_init(const en_ctx *c, en_energy_acc *a);
void en_energy_free(en_energy_acc *a);
int32_t en_energy_events(en_ctx *c, en_energy_acc *a, int64_t x0, int64_t x1);
int32_t en_energy_finish(en_ctx *c, en_energy_acc *const *parts, int n_parts);

/* par.c: run fn(arg) on the worker (or inline when there is none); join waits for it */
typedef void (*en_task_fn)(void *arg);
int en_worker_start(en_ctx *c);
void en_worker_run(en_ctx *c, en_task_fn fn, void *arg);
void en_worker_join(en_ctx *c);
void en_worker_stop(en_ctx *c);

#endif /* CHIPEMU_ENGINE_INTERNAL_H */
