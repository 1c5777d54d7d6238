"""Tile kernels for tests and benchmarks: Numba twins of tests/testkernels/tile.c.

PROGRAM interprets a list of intrinsic calls held in its params, so tests drive every intrinsic
(and every error path) through both backends with one kernel:

    params = [n, ins_0 (12 words), ins_1, ...]; ins = [code, tile, a0 .. a9]
    tile: -1 runs the call on every tile, t only on tile t. Codes and arguments:
      1 dimc_load   slot, src_buf, src_off, row0, nrows, fmt
      2 dimc_mvm    engine, slot, x_buf, x_off, y_buf, y_off, nvec, k_rows, fmt, accumulate
      3 vec         vop, then the op's arguments (unary: src_buf, src_off, dst_buf, dst_off, n;
                    binary: a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n; row ops: src_buf,
                    src_off, dst_buf, dst_off, n, row_len; convert: + row_len, fmt_to, fmt_from)
      4 send        mode, m, count, src_buf, src_off, dst_buf, dst_off, nbytes; mode 0: the tiles
                    are params[m : m + count]; mode 1: the one tile (tile + m) % n_tiles
      5 dram_read   src_buf, src_off, dst_buf, dst_off, nbytes   (6 dram_write, 7 host_read alike)
      8 barrier     mode, m, count; mode 0 as send; mode 1: {tile, (tile + m) % n_tiles}
      9 vec_rows    vop (1 vec_add_rows, 2 vec_mul_rows), a_buf, a_off, b_buf, b_off, dst_buf,
                    dst_off, n, row_len (a code of its own: their events carry the add/mul kind)
     10 vec_dot     a_buf, a_off, b_buf, b_off, dst_buf, dst_off, rows_a, rows_b, row_len,
                    accumulate
     11 vec_col_argmax  a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n, row_len
     12 vec_convert_weights  src_buf, src_off, ld, lines, trans, dst_buf, dst_off, nrows, ncols,
                    fmt

GEMV, MVM_LOOP and EMPTY are ordinary kernels (see their docstrings).
"""
import numpy as np

from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics import (barrier, dimc_load, dimc_mvm, dram_read, dram_write,
                                         host_read, n_tiles, send, vec_add, vec_add_rows,
                                         vec_col_argmax, vec_convert, vec_convert_weights,
                                         vec_copy, vec_dot, vec_exp,
                                         vec_max, vec_mul, vec_mul_rows, vec_reciprocal,
                                         vec_row_max, vec_row_sum, vec_rsqrt)
from chipemu.emulator.intrinsics.core import CTX_DEV, DEV_ENGINES
from chipemu.emulator.runtime import TileKernel

from testkernels.build import address

__all__ = ["EMPTY", "PROGRAM", "GEMV", "MVM_LOOP", "P_WIDTH", "P_DIMC_LOAD", "P_DIMC_MVM", "P_VEC",
           "P_SEND", "P_DRAM_READ", "P_DRAM_WRITE", "P_HOST_READ", "P_BARRIER", "P_VEC_ROWS",
           "P_VEC_DOT", "P_VEC_COL_ARGMAX", "P_VEC_CONVERT_WEIGHTS"]

P_WIDTH = 12
(P_DIMC_LOAD, P_DIMC_MVM, P_VEC, P_SEND, P_DRAM_READ, P_DRAM_WRITE, P_HOST_READ,
 P_BARRIER, P_VEC_ROWS, P_VEC_DOT, P_VEC_COL_ARGMAX, P_VEC_CONVERT_WEIGHTS) = range(1, 13)


@jit
def empty(ctx, tile, step, p):
    """Does nothing: measures the launcher."""
    return


@jit
def _vec(ctx, a):
    op = a[0]
    if op == 0:
        vec_copy(ctx, a[1], a[2], a[3], a[4], a[5])
    elif op == 4:
        vec_exp(ctx, a[1], a[2], a[3], a[4], a[5])
    elif op == 5:
        vec_reciprocal(ctx, a[1], a[2], a[3], a[4], a[5])
    elif op == 6:
        vec_rsqrt(ctx, a[1], a[2], a[3], a[4], a[5])
    elif op == 1:
        vec_add(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7])
    elif op == 2:
        vec_mul(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7])
    elif op == 3:
        vec_max(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7])
    elif op == 7:
        vec_row_sum(ctx, a[1], a[2], a[3], a[4], a[5], a[6])
    elif op == 8:
        vec_row_max(ctx, a[1], a[2], a[3], a[4], a[5], a[6])
    elif op == 9:
        vec_convert(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8])


@jit
def program(ctx, tile, step, p):
    """Interpret the intrinsic calls in p (module docstring)."""
    nt = n_tiles(ctx)
    pair = np.empty(2, np.int64)
    for i in range(p[0]):
        q = 1 + P_WIDTH * i
        code, sel = p[q], p[q + 1]
        if sel >= 0 and sel != tile:
            continue
        a = p[q + 2:q + P_WIDTH]
        pair[0] = tile
        pair[1] = (tile + a[1]) % nt
        if a[0] == 0:
            ids = p[a[1]:a[1] + a[2]]
        else:
            ids = pair[1:2]
        if code == P_DIMC_LOAD:
            dimc_load(ctx, a[0], a[1], a[2], a[3], a[4], a[5])
        elif code == P_DIMC_MVM:
            dimc_mvm(ctx, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9])
        elif code == P_VEC:
            _vec(ctx, a)
        elif code == P_SEND:
            send(ctx, ids, a[3], a[4], a[5], a[6], a[7])
        elif code == P_DRAM_READ:
            dram_read(ctx, a[0], a[1], a[2], a[3], a[4])
        elif code == P_DRAM_WRITE:
            dram_write(ctx, a[0], a[1], a[2], a[3], a[4])
        elif code == P_HOST_READ:
            host_read(ctx, a[0], a[1], a[2], a[3], a[4])
        elif code == P_BARRIER:
            if a[0] == 0:
                barrier(ctx, ids)
            else:
                barrier(ctx, pair[0:1] if pair[1] == tile else pair)
        elif code == P_VEC_ROWS:
            if a[0] == 1:
                vec_add_rows(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8])
            elif a[0] == 2:
                vec_mul_rows(ctx, a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8])
        elif code == P_VEC_DOT:
            vec_dot(ctx, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9])
        elif code == P_VEC_COL_ARGMAX:
            vec_col_argmax(ctx, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])
        elif code == P_VEC_CONVERT_WEIGHTS:
            vec_convert_weights(ctx, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9])


@jit
def gemv(ctx, tile, step, p):
    """p = [w_host, x_host, w_sram, x_sram, xq_sram, y_sram, out_dram, k, fmt_w, fmt_a, nvec,
    w_bytes, x_bytes, y_bytes, y_elems]: every tile loads the same weights into slot 0, reads its
    own nvec x k float32 inputs, quantizes them, multiplies, applies exp and writes y to DRAM at
    tile * y_bytes."""
    host_read(ctx, p[0], 0, p[2], 0, p[11])
    dimc_load(ctx, 0, p[2], 0, 0, p[7], p[8])
    host_read(ctx, p[1], tile * p[12], p[3], 0, p[12])
    vec_convert(ctx, p[3], 0, p[4], 0, p[10] * p[7], p[7], p[9], 0)
    dimc_mvm(ctx, 0, 0, p[4], 0, p[5], 0, p[10], p[7], p[9], 0)
    vec_exp(ctx, p[5], 0, p[5], 0, p[14])
    dram_write(ctx, p[5], 0, p[6], tile * p[13], p[13])


@jit
def mvm_loop(ctx, tile, step, p):
    """p = [slot, x_buf, y_buf, nvec, k, fmt, iterations]: y += x . W, repeatedly."""
    engines = ctx[CTX_DEV][DEV_ENGINES]
    for it in range(p[6]):
        dimc_mvm(ctx, it % engines, p[0], p[1], 0, p[2], 0, p[3], p[4], p[5], 1)


EMPTY = TileKernel("test_empty", numba=empty, c=address("chipemu_kernel_test_empty"))
PROGRAM = TileKernel("test_program", numba=program, c=address("chipemu_kernel_test_program"))
GEMV = TileKernel("test_gemv", numba=gemv, c=address("chipemu_kernel_test_gemv"))
MVM_LOOP = TileKernel("test_mvm_loop", numba=mvm_loop, c=address("chipemu_kernel_test_mvm_loop"))
