/* host/machine.h — the emulated device of a C host's run: the C side of Python's Machine
 * (emulator/runtime/machine.py, state.py) for the built-in kernels' plans run from C.
 *
 * The same buffer table (64-byte aligned SRAM and host buffers, allocated in the same order), the
 * same launches through chipemu_launch / chipemu_finish, the same log: a run from C times exactly
 * as the same run from Python. Single-threaded (results never depend on threads); every
 * allocation is checked and a failure sets chipemu_last_error(). */
#ifndef CHIPEMU_HOST_MACHINE_H
#define CHIPEMU_HOST_MACHINE_H

#include "chipemu_host.h"

#define HM_MAX_PHASES 4

typedef struct {
    const chipemu_device_params *p;
    int functional;
    int64_t dev[CHIPEMU_DEV_COUNT];
    int64_t n_tiles;
    int64_t *bt;                     /* buffer table [n_bufs][CHIPEMU_BT_COUNT] */
    chipemu_buffer *buffers;         /* the engine's view of it */
    int64_t n_bufs, cap_bufs;
    uint64_t sram_used, sram_stride; /* bytes of buffers per tile; row length of `sram` */
    uint8_t *sram;                   /* [n_tiles][sram_stride] (functional) */
    uint64_t host_used, host_size;
    uint8_t *host;                   /* host arena (functional) */
    int8_t *codes;                   /* DIMC state (functional; wfmt in both modes) */
    uint8_t *scales;
    float *tscale;
    int8_t *wfmt;
    chipemu_event *events;
    int64_t n_events, cap_events;
    uint32_t *peers;
    int64_t n_peers, cap_peers;
    uint8_t *stage;
    int64_t stage_size;
    int64_t *sc;
    int64_t sc_rows;
    int64_t step;                    /* supersteps launched */
    const char *phase_name[HM_MAX_PHASES];
    int64_t phase_first[HM_MAX_PHASES], phase_end[HM_MAX_PHASES];
    int n_phases;
} hm_machine;

int32_t hm_init(hm_machine *m, const chipemu_device_params *p, int functional);
void hm_free(hm_machine *m);
/* Buffers: *id gets the new buffer's id. data may be NULL (timing mode: sizes only). */
int32_t hm_alloc_sram(hm_machine *m, int64_t nbytes, int64_t *id);
/* Size every tile's SRAM row for nbytes of buffers up front (no copies as buffers are added;
 * Machine.reserve_sram). */
int32_t hm_reserve_sram(hm_machine *m, uint64_t nbytes);
int32_t hm_alloc_host(hm_machine *m, const void *data, int64_t nbytes, int64_t *id);
/* Launches inside a phase count in it (hm_phase_begin ... hm_phase_end). */
void hm_phase_begin(hm_machine *m, const char *name);
void hm_phase_end(hm_machine *m);
/* One superstep of `kernel` on tiles (ascending global ids), as Machine.launch. */
int32_t hm_launch(hm_machine *m, const char *name, chipemu_tile_kernel kernel, const int64_t *tiles,
                  int64_t n, const int64_t *params, int64_t events_per_tile, int64_t peers_per_tile,
                  int64_t stage_bytes_per_tile);
/* A barrier superstep over tiles (kernels/scaffold.py barrier). */
int32_t hm_barrier(hm_machine *m, const int64_t *tiles, int64_t n);
/* Time the log: the figures of Python's Result and its phases (scaffold.py _phase). */
int32_t hm_time(hm_machine *m, chipemu_cost *out);

#endif /* CHIPEMU_HOST_MACHINE_H */
