/* kernels/matmul/run.h — a matmul run from C (run.c): parameters, buffers, launches. */
#ifndef CHIPEMU_KERNELS_MATMUL_RUN_H
#define CHIPEMU_KERNELS_MATMUL_RUN_H

#include "host/machine.h"

/* buffer ids of a run: the plan's SRAM buffers (chipemu_matmul_plan.sram_bytes order), then the
 * two host buffers; -1 where unused */
enum { MM_BUF_W, MM_BUF_XHOME, MM_BUF_X, MM_BUF_Y, MM_BUF_ACC, MM_BUF_RECV, MM_BUF_W_HOST,
       MM_BUF_X_HOST, MM_BUF_COUNT };

typedef struct {
    int64_t *tiles;          /* tiles holding blocks, ascending */
    int64_t n;
    int64_t *params;         /* kernels/matmul/params.py's vector */
    int64_t n_words;
    int64_t w_bytes, x_bytes;    /* host layouts: every tile's blocks, every holder's pieces */
    int64_t ev_load, ev_step, peers_step, stage;
} mm_run;

int64_t mm_rounds(const chipemu_matmul_plan *pl);
int64_t mm_compute_supersteps(const chipemu_matmul_plan *pl);
/* The run of a plan on a device of n_tiles tiles with buffer ids bufs[MM_BUF_COUNT]. */
int32_t mm_prepare(const chipemu_matmul_plan *pl, int64_t n_tiles, const int64_t bufs[], mm_run *r);
void mm_free(mm_run *r);
int32_t mm_buffers(hm_machine *m, const chipemu_matmul_plan *pl, const void *w_host,
                   int64_t w_bytes, const void *x_host, int64_t x_bytes, int64_t bufs[]);
/* Phases "load" (mm_load, barrier) and "compute" (every compute superstep). */
int32_t mm_launch_all(hm_machine *m, const chipemu_matmul_plan *pl, mm_run *r);

#endif /* CHIPEMU_KERNELS_MATMUL_RUN_H */
