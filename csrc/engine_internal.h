/* engine_internal.h — state shared by the timing and energy engine's files (not public API).
 *
 *   engine.c         entry points, device parameters, resource numbering, routing tables
 *   engine_log.c     log validation, barrier groups and instances
 *   engine_hazard.c  dependency graph: unit order, RAW/WAR/WAW hazards, barrier fences
 *   engine_queue.c   the event queue (calendar ring of cycles + heaps)
 *   engine_sim.c     the discrete-event simulation of ops and packets
 *   engine_energy.c  the energy function and the critical path
 *
 * Semantics: docs/engine.md. Every function returns a chipemu status; errors fill ctx->err.
 */
#ifndef CHIPEMU_ENGINE_INTERNAL_H
#define CHIPEMU_ENGINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "chipemu.h"

#define EN_MAX_TILES (1u << 24)
#define EN_MAX_CHIPLETS 4096u
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

/* packet stages (item.stage bits 0-3) and flags */
#define EN_ST_OP 0        /* compute op start */
#define EN_ST_SRC 1       /* source SRAM read (the inject port follows inline) */
#define EN_ST_DRAMR 2     /* DRAM channel read */
#define EN_ST_HOST 3      /* host link */
#define EN_ST_NOC 4       /* a NoC link or a D2D link */
#define EN_ST_EJECT 5     /* destination eject port */
#define EN_ST_DST 6       /* destination SRAM write (last) */
#define EN_ST_DRAMW 7     /* DRAM channel write (last) */
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

/* successor entries: bit 31 set = a delivery dependency (it gates a SEND's destination writes);
 * bit 30 set = it waits for the predecessor's read to finish (WAR), not for its completion */
#define EN_DELIVERY 0x80000000u
#define EN_READ 0x40000000u
#define EN_SUCC_MASK 0x3FFFFFFFu

/* energy actions: counts per tile bucket and per op kind */
#define EN_A_MAC 0                                   /* + fmt * NUM_FORMATS + fmt2 */
#define EN_A_OVERHEAD (CHIPEMU_NUM_FORMATS * CHIPEMU_NUM_FORMATS)
#define EN_A_ROW_WRITE (EN_A_OVERHEAD + 1)
#define EN_A_SRAM_READ (EN_A_OVERHEAD + 2)           /* bits */
#define EN_A_SRAM_WRITE (EN_A_OVERHEAD + 3)          /* bits */
#define EN_A_VEC (EN_A_OVERHEAD + 4)                 /* + vop: elements */
#define EN_A_NOC (EN_A_VEC + CHIPEMU_VOP_COUNT)      /* bit-hops */
#define EN_A_DRAM (EN_A_NOC + 1)                     /* bits */
#define EN_A_HOST (EN_A_NOC + 2)                     /* bits */
#define EN_A_D2D (EN_A_NOC + 3)                      /* + link: bits */

typedef struct {            /* one queue entry: a compute op's start or one hop of a packet */
    int64_t cycle;          /* key 1: ready cycle */
    uint64_t k3;            /* key 3: packet index << 16 | hop */
    uint32_t rank;          /* key 2: the op's position in (issuing tile, event index) order */
    uint32_t op;            /* event index */
    uint32_t res;           /* channel of this hop */
    uint32_t cur;           /* global tile the packet is at once through this channel */
    uint32_t tgt;           /* global tile the NoC part of the route heads for */
    uint32_t bytes;         /* packet bytes */
    int32_t trk;            /* tracker of a stream's last packet, -1 otherwise */
    uint8_t stage;          /* EN_ST_* | EN_F_* */
} en_item;

typedef struct { uint64_t key; int64_t idx; } en_qkey;

typedef struct {
    en_item *pool;          /* items of the ring and of the current cycle */
    int32_t *pnext;         /* bucket lists; free list */
    uint64_t *pkey;         /* 64-bit sort key of each pooled item (see engine_queue.c) */
    int64_t pool_n, pool_cap, pnext_cap, pkey_cap;
    int inexact;            /* an item whose 64-bit key is not exact was queued */
    int32_t pool_free;
    int32_t *head;          /* [EN_Q_W] bucket list heads */
    uint64_t *bits;         /* non-empty buckets */
    en_item *ov;            /* heap of items beyond the ring's window */
    int64_t ov_n, ov_cap;
    en_qkey *cur, *tmp;     /* the current cycle's items, sorted by key */
    int64_t cur_n, cur_pos, cur_cap, tmp_cap;
    int32_t *late;          /* heap of items pushed at or before the current cycle after sorting */
    int64_t late_n, late_cap;
    int64_t now, ring_n;
} en_queue;

typedef struct {            /* per-op state of the simulation: one cache line */
    int64_t start;          /* ready cycle until the op starts, then its start */
    int64_t end;            /* completion (-1 before) */
    int32_t pending;        /* unresolved predecessors; for a running DMA op, streams in flight */
    int32_t next_unit;      /* next op on the same unit, -1 none */
    int32_t bnd;            /* the predecessor that bound the ready time, -1 none */
    int32_t aux;            /* DMA: ordinal among DMA ops; BARRIER: instance */
    uint32_t rank;          /* position in (tile, event index) order: the queue's key 2 */
    uint32_t tile;
    uint32_t occ_a;         /* compute: unit occupancy; DMA: bytes */
    uint32_t occ_b;         /* compute: SRAM occupancy; SEND: peer_first; DRAM: channel */
    uint16_t streams;       /* DMA: destinations (1 unless SEND) */
    uint8_t op;             /* CHIPEMU_OP_* */
    uint8_t info;           /* EN_BND_* | (wait class + 1) << EN_WAIT_SHIFT */
    uint8_t unit;           /* DIMC engine */
    uint8_t flags;          /* EN_OP_*: */
    uint8_t pad[10];
} en_op;
#define EN_OP_BIG 1         /* an occupancy did not fit 32 bits: recompute from the record */
#define EN_OP_GATED 2       /* a SEND with delivery hazards */
#define EN_OP_DONE 4        /* completed */
_Static_assert(sizeof(en_op) == 64, "en_op is one cache line");

typedef struct {            /* per DMA op: delivery hazards (only SENDs have any), read completion */
    int64_t ready;          /* when the last delivery hazard cleared */
    int64_t read_done;      /* when the last packet finished reading its source (-1 before) */
    int32_t pending;        /* unresolved delivery hazards */
    int32_t bnd;            /* the one that cleared last, -1 none */
    int32_t parked;         /* packets waiting at their destination write, a list in ctx->park */
    uint8_t bkind;          /* EN_BND_DONE or EN_BND_READ: how bnd cleared */
    uint8_t pad[3];
} en_dmax;

typedef struct { en_item it; int32_t next; } en_parked;

typedef struct {            /* a resource: when it is free, cycles busy, channel properties */
    int64_t free, busy;
    uint32_t bw, lat;
    uint32_t cls, pad;
} en_resv;

typedef struct {
    int64_t peer_first;     /* the slice of the first barrier with this group */
    uint32_t count;
    uint32_t n_k, cap_k;
    uint32_t *seen;         /* [count]: barriers of this group seen per member position */
    int32_t *inst_of_k;     /* [n_k]: the k-th instance */
} en_group;

typedef struct {
    int64_t ready;          /* latest member arrival */
    int64_t off;            /* members[off .. off+count): member barrier op per group position */
    int32_t group;
    uint32_t registered, arrived;
    int32_t bnd;            /* predecessor that bound the latest arrival */
} en_inst;

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

    /* geometry and resources */
    uint32_t C, T, n_tiles, E, U, per_tile, n_chan;
    int64_t n_res, noc_base, d2d_base, dram_base, host_res;
    int32_t *noc_id;        /* [n_tiles * 4]: NoC link resource leaving a tile (E, W, S, N), -1 none */
    int32_t *next_link;     /* [C * C]: first D2D link on the route, -1 none */
    en_resv *res;           /* [n_res] */
    int32_t elem_bits[CHIPEMU_NUM_FORMATS];

    /* per op */
    en_op *ops;             /* [n] */
    uint32_t *succ_off;     /* [n + 1] */
    int32_t *succ;

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
    en_dmax *dmax;          /* [n_dma] */
    en_parked *park;
    int64_t park_n, park_cap;
    int32_t park_free;
    int32_t *dma_bd;        /* [n_dma][EN_BD_STRIDE] breakdown of the latest-delivered stream */
    int32_t *trk;           /* tracker pool [cap][EN_BD_STRIDE] */
    int32_t trk_n, trk_cap, trk_free;
    int32_t *bstack;        /* barrier instances completed, to propagate */
    int32_t bs_n, bs_cap;
    int64_t n_done;
    en_queue q;

    /* energy action counts */
    int32_t n_act;
    int64_t *cnt_tile;      /* [n_act][n_tiles + 1] (action-major); bucket n_tiles = card */
    int64_t *cnt_op;        /* [CHIPEMU_OP_COUNT * n_act] */
} en_ctx;

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
static inline int64_t en_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* engine_log.c */
int32_t en_validate(en_ctx *c);
void en_free_groups(en_ctx *c);

/* engine_hazard.c */
int32_t en_build_graph(en_ctx *c);

/* engine_queue.c */
int32_t en_q_init(en_queue *q);
void en_q_free(en_queue *q);
int32_t en_q_push(en_queue *q, const en_item *it);
int en_q_pop(en_queue *q, en_item *it);

/* engine_sim.c */
typedef struct {            /* a compute op's costs */
    int64_t dur, unit_occ, sram_occ, write_occ;
    int64_t macs;
} en_costs;
void en_compute_costs(const en_ctx *c, const chipemu_event *e, en_costs *k);
void en_init_op(en_ctx *c, int64_t i);
int32_t en_simulate(en_ctx *c);
uint32_t en_attach_tile(const en_ctx *c, uint32_t channel);
int en_route_step(const en_ctx *c, uint32_t cur, uint32_t tgt, uint32_t *res, uint32_t *ncur);

/* engine_energy.c */
int32_t en_count_actions(en_ctx *c);
void en_energy(en_ctx *c);
int32_t en_critical_path(en_ctx *c);

#endif /* CHIPEMU_ENGINE_INTERNAL_H */
