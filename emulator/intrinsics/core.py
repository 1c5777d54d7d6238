"""Numba twin of csrc/intrinsics/core.h: the tile context, error recording, checks and events.

A tile kernel's `ctx` is a tuple of arrays (the Numba form of the C struct chipemu_ctx; indices
CTX_*), built per tile by the launcher in emulator/runtime/superstep.py. Every check here has the same
order, values and message ids as its C twin, so a broken rule reads the same from both backends.
Pure Numba (it caches). Integer arithmetic is int64 (Numba widens anyway); event words are
written as uint32.
"""
import numpy as np
from numba import types

from chipemu.emulator._jit import jit
from chipemu.emulator.numerics.codec import TABLE

# ---- the tile context: ctx[CTX_*] (chipemu_ctx field by field) ----
(CTX_SRAM, CTX_CODES, CTX_SCALES, CTX_TSCALE, CTX_WFMT, CTX_DRAM, CTX_HOST, CTX_BUFS, CTX_EVENTS,
 CTX_PEERS, CTX_STAGE, CTX_SC, CTX_DEV, CTX_SCR_I8, CTX_SCR_F64, CTX_SCR_I32,
 CTX_SCR_F32) = range(17)

CTX_TYPE = types.Tuple((
    types.uint8[::1],            # sram: this tile's SRAM (length 0 in timing mode)
    types.int8[:, :, ::1],       # DIMC codes [slots, rows, cols_max]
    types.uint8[:, :, ::1],      # DIMC block-scale codes [slots, blocks_max, cols_max]
    types.float32[::1],          # int8 weight scale per slot
    types.int8[::1],             # weight format per slot, -1 empty
    types.uint8[::1],            # DRAM arena
    types.uint8[::1],            # host arena
    types.int64[:, ::1],         # buffer table [n_bufs, BT_COUNT]
    types.uint32[:, ::1],        # this tile's event region, 17 words per chipemu_event
    types.uint32[::1],           # this tile's peer region
    types.uint8[::1],            # this tile's staging region
    types.int64[::1],            # this tile's scalars SC_*
    types.int64[::1],            # device constants DEV_*
    types.int8[::1], types.float64[::1], types.int32[::1], types.float32[::1],   # scratch
))
KERNEL_SIG = types.void(CTX_TYPE, types.int64, types.int64, types.int64[::1])

# ---- constants of csrc/include/chipemu.h (tests/test_emulator_intrinsics.py checks them) ----
# Values passed to compiled helpers are NumPy int64 scalars, not Python ints: Numba types a Python
# int constant argument as a literal and compiles a separate specialization per value.
def _ids(start, stop):
    return tuple(np.int64(i) for i in range(start, stop))


MODE_FUNCTIONAL, MODE_TIMING = 0, 1
(DEV_N_TILES, DEV_ROWS, DEV_COLS, DEV_CELL_BITS, DEV_SLOTS, DEV_ENGINES, DEV_COLS_MAX,
 DEV_BLOCKS_MAX, DEV_MODE, DEV_STEP, DEV_COUNT) = range(11)
(SC_TILE, SC_EVENTS, SC_PEERS, SC_STAGED, SC_EVENT_CAP, SC_PEER_CAP, SC_STAGE_CAP, SC_ERROR,
 SC_MESSAGE, SC_INTRINSIC, SC_VALUES) = range(11)
SC_COUNT = 16
KERR_CAPACITY, KERR_SHAPE, KERR_FORMAT, KERR_STATE = _ids(1, 5)
IN_DIMC_LOAD, IN_DIMC_MVM, IN_VEC = _ids(0, 3)
(IN_SEND, IN_DRAM_READ, IN_DRAM_WRITE, IN_HOST_READ, IN_BARRIER, IN_VEC_ADD_ROWS, IN_VEC_MUL_ROWS,
 IN_VEC_DOT, IN_COUNT) = _ids(12, 21)
BT_KIND, BT_STORE, BT_SIZE, BT_WHERE, BT_COUNT = 0, 1, 2, 3, 4
BUF_SRAM, BUF_DRAM, BUF_HOST = _ids(0, 3)
NO_BUF = 0xFFFFFFFF
(OP_DIMC_LOAD, OP_DIMC_MVM, OP_VEC, OP_SEND, OP_DRAM_READ, OP_DRAM_WRITE, OP_HOST_READ,
 OP_BARRIER) = _ids(1, 9)
(VOP_COPY, VOP_ADD, VOP_MUL, VOP_MAX, VOP_EXP, VOP_RECIPROCAL, VOP_RSQRT, VOP_ROW_SUM, VOP_ROW_MAX,
 VOP_CONVERT) = _ids(0, 10)
FLAG_ACCUMULATE, FLAG_ROW_BROADCAST, FLAG_DOT = np.int64(1), np.int64(2), np.int64(4)
FMT_FP32 = np.int64(0)
KIND_FP32, KIND_BF16, KIND_FP16, KIND_INT_TENSOR, KIND_BLOCK_INT, KIND_BLOCK_FP = range(6)
EVENT_WORDS = 17
ERR_KERNEL = np.int64(5)
I0, I1, IM1, I8, I16 = np.int64(0), np.int64(1), np.int64(-1), np.int64(8), np.int64(16)
W_SRC0, W_SRC1, W_DST = np.int64(7), np.int64(10), np.int64(13)     # range words of an event
TRUE, FALSE = np.bool_(True), np.bool_(False)

# ---- message and argument ids of csrc/intrinsics/core.h ----
(MSG_EVENTS, MSG_PEERS, MSG_STAGE, MSG_BUF, MSG_BUF_KIND, MSG_RANGE, MSG_ALIGN, MSG_ARG,
 MSG_MULTIPLE, MSG_FMT, MSG_FMT_DIMC, MSG_FMT_CELLS, MSG_CONVERT, MSG_SLOT_EMPTY, MSG_OVERLAP,
 MSG_DUP, MSG_SELF) = _ids(1, 18)
ARG_NAMES = ("slot", "engine", "fmt", "fmt_to", "fmt_from", "row0", "nrows", "nvec", "k_rows", "n",
             "row_len", "nbytes", "accumulate", "src", "a", "b", "dst", "x", "y", "dst_tiles",
             "group", "rows_a", "rows_b")
(ARG_SLOT, ARG_ENGINE, ARG_FMT, ARG_FMT_TO, ARG_FMT_FROM, ARG_ROW0, ARG_NROWS, ARG_NVEC, ARG_K_ROWS,
 ARG_N, ARG_ROW_LEN, ARG_NBYTES, ARG_ACCUMULATE, ARG_SRC, ARG_A, ARG_B, ARG_DST, ARG_X, ARG_Y,
 ARG_DST_TILES, ARG_GROUP, ARG_ROWS_A, ARG_ROWS_B) = _ids(0, len(ARG_NAMES))
MAX_COUNT = np.int64(2147483647)
DIMC_VB = 4          # CORE_DIMC_VB: vectors per block of dimc_mvm


@jit
def dimc_scratch(rows, cmax, bmax):
    """Per-thread scratch sizes (i8, f64, i32, f32) of core_dimc_scratch in csrc/intrinsics/core.h,
    the same in both twins (the Numba kernel needs less of the i32 and f32 parts)."""
    pairs = rows // 2 + 1
    c8 = (cmax + 7) // 8 * 8
    return (DIMC_VB * rows + 1, 512 + DIMC_VB * rows + bmax * cmax,
            pairs * c8 + DIMC_VB * pairs + DIMC_VB * c8, DIMC_VB * cmax + 1)

_TABLE = TABLE
_F_KIND, _F_BITS, _F_MBITS, _F_BLOCK, _F_SCALE_BITS = 1, 2, 4, 8, 9


@jit
def fail(sc, intr, cls, msg, v0, v1, v2, v3, v4):
    """Record a broken rule in the tile's scalars; returns ERR_KERNEL."""
    sc[SC_ERROR] = cls
    sc[SC_MESSAGE] = msg
    sc[SC_INTRINSIC] = intr
    sc[SC_VALUES] = v0
    sc[SC_VALUES + 1] = v1
    sc[SC_VALUES + 2] = v2
    sc[SC_VALUES + 3] = v3
    sc[SC_VALUES + 4] = v4
    return ERR_KERNEL


# The helpers below take the arrays they need (sc: the tile's scalars, bufs: the buffer table,
# dev: device constants) rather than the whole ctx: a 17-array tuple argument makes every small
# function several times slower to compile.

@jit
def functional(dev):
    return dev[DEV_MODE] == MODE_FUNCTIONAL


@jit
def check_arg(sc, intr, arg, v, lo, hi):
    if v >= lo and v <= hi:
        return True
    fail(sc, intr, KERR_SHAPE, MSG_ARG, arg, v, lo, hi, I0)
    return False


@jit
def check_multiple(sc, intr, arg, v, m):
    if v % m == 0:
        return True
    fail(sc, intr, KERR_SHAPE, MSG_MULTIPLE, arg, v, m, I0, I0)
    return False


@jit
def check_range(sc, bufs, intr, arg, buf, off, length, kind):
    nb = bufs.shape[0]
    if buf < 0 or buf >= nb:
        fail(sc, intr, KERR_SHAPE, MSG_BUF, arg, buf, np.int64(nb), I0, I0)
        return False
    if bufs[buf, BT_KIND] != kind:
        fail(sc, intr, KERR_SHAPE, MSG_BUF_KIND, arg, buf, bufs[buf, BT_KIND], kind, I0)
        return False
    size = bufs[buf, BT_SIZE]
    if off < 0 or off > size - length:
        fail(sc, intr, KERR_SHAPE, MSG_RANGE, arg, off, length, buf, size)
        return False
    return True


@jit
def check_align4(sc, intr, arg, off):
    if (off & 3) == 0:
        return True
    fail(sc, intr, KERR_SHAPE, MSG_ALIGN, arg, off, I0, I0, I0)
    return False


@jit
def check_fmt(sc, intr, arg, fmt):
    if fmt >= 0 and fmt < _TABLE.shape[0]:
        return True
    fail(sc, intr, KERR_FORMAT, MSG_FMT, arg, fmt, I0, I0, I0)
    return False


@jit
def check_dimc_fmt(sc, intr, arg, fmt):
    if not check_fmt(sc, intr, arg, fmt):
        return False
    kind = _TABLE[fmt, _F_KIND]
    if kind == KIND_INT_TENSOR or kind == KIND_BLOCK_INT:
        return True
    fail(sc, intr, KERR_FORMAT, MSG_FMT_DIMC, arg, fmt, I0, I0, I0)
    return False


@jit
def check_disjoint(sc, intr, arg, dbuf, doff, dlen, src_arg, sbuf, soff, slen, same_start_ok):
    """dst may start where a source starts (same_start_ok) or be disjoint from it."""
    if dbuf != sbuf or doff + dlen <= soff or soff + slen <= doff:
        return True
    if same_start_ok and doff == soff:
        return True
    fail(sc, intr, KERR_SHAPE, MSG_OVERLAP, arg, dbuf, doff, dlen, src_arg)
    return False


@jit
def fmt_kind(fmt):
    return _TABLE[fmt, _F_KIND]


@jit
def fmt_bits(fmt):
    return _TABLE[fmt, _F_BITS]


@jit
def fmt_mbits(fmt):
    return _TABLE[fmt, _F_MBITS]


@jit
def fmt_block(fmt):
    return _TABLE[fmt, _F_BLOCK]


@jit
def row_bytes(fmt, n):
    """Bytes of one row of n elements in a format's device layout (docs/intrinsics.md)."""
    kind = _TABLE[fmt, _F_KIND]
    if kind == KIND_FP32:
        return 4 * n
    if kind == KIND_BF16 or kind == KIND_FP16:
        return 2 * n
    if kind == KIND_INT_TENSOR:
        return n + 4
    bits, bs = _TABLE[fmt, _F_BITS], _TABLE[fmt, _F_BLOCK]
    return (n * bits + 7) // 8 + (n + bs - 1) // bs


@jit
def new_event(sc, intr):
    """Index of the next event of the tile's region, or -1 after recording MSG_EVENTS."""
    if sc[SC_EVENTS] >= sc[SC_EVENT_CAP]:
        fail(sc, intr, KERR_CAPACITY, MSG_EVENTS, sc[SC_EVENT_CAP], I0, I0, I0, I0)
        return -1
    return sc[SC_EVENTS]


@jit
def commit(ev, sc, dev, e, op, fmt, fmt2, unit, a, b, c, peer_first, peer_count,
           s0, s0_off, s0_len, s1, s1_off, s1_len, d, d_off, d_len, flags):
    """Write event e of the region ev (a chipemu_event as 17 little-endian words) and count it.

    Unused ranges are passed as buffer -1 (stored as CHIPEMU_NO_BUF, offset and length 0)."""
    w = ev[e]
    w[0] = np.uint32((op & 0xFF) | ((fmt & 0xFF) << 8) | ((fmt2 & 0xFF) << 16)
                     | ((unit & 0xFF) << 24))
    w[1] = np.uint32(sc[SC_TILE])
    w[2] = np.uint32(dev[DEV_STEP])
    w[3] = np.uint32(a)
    w[4] = np.uint32(b)
    w[5] = np.uint32(peer_first)
    w[6] = np.uint32((peer_count & 0xFFFF) | ((c & 0xFFFF) << 16))
    _range(w, W_SRC0, s0, s0_off, s0_len)
    _range(w, W_SRC1, s1, s1_off, s1_len)
    _range(w, W_DST, d, d_off, d_len)
    w[16] = np.uint32(flags)
    sc[SC_EVENTS] += 1


@jit
def _range(w, at, buf, off, length):
    if buf < 0:
        w[at] = np.uint32(NO_BUF)
        w[at + 1] = 0
        w[at + 2] = 0
    else:
        w[at] = np.uint32(buf)
        w[at + 1] = np.uint32(off)
        w[at + 2] = np.uint32(length)


@jit
def copy_bytes(dst, d0, src, s0, n):
    """dst[d0:d0+n] = src[s0:s0+n], ascending (a loop: slice assignment of arrays compiles a
    shape check with string formatting, slow to compile)."""
    for i in range(n):
        dst[d0 + i] = src[s0 + i]


@jit
def store_of(bufs, buf):
    """Offset of buffer `buf`'s bytes in its memory (tile SRAM, DRAM arena, host arena)."""
    return bufs[buf, BT_STORE]


@jit
def load_u32(a, at):
    return (np.uint32(a[at]) | (np.uint32(a[at + 1]) << np.uint32(8))
            | (np.uint32(a[at + 2]) << np.uint32(16)) | (np.uint32(a[at + 3]) << np.uint32(24)))


@jit
def store_u32(a, at, u):
    a[at] = np.uint8(u & 0xFF)
    a[at + 1] = np.uint8((u >> 8) & 0xFF)
    a[at + 2] = np.uint8((u >> 16) & 0xFF)
    a[at + 3] = np.uint8((u >> 24) & 0xFF)


@jit
def f32_of_bits(u):
    b = np.empty(1, np.uint32)
    b[0] = np.uint32(u)
    return b.view(np.float32)[0]


@jit
def bits_of_f32(x):
    b = np.empty(1, np.float32)
    b[0] = x
    return b.view(np.uint32)[0]


# ---- what the runtime reports (plain Python; not compiled) ----
INTRINSIC_NAMES = ("dimc_load", "dimc_mvm", "vec_copy", "vec_add", "vec_mul", "vec_max", "vec_exp",
                   "vec_reciprocal", "vec_rsqrt", "vec_row_sum", "vec_row_max", "vec_convert",
                   "send", "dram_read", "dram_write", "host_read", "barrier", "vec_add_rows",
                   "vec_mul_rows", "vec_dot")
# message id -> text; {arg} names v0, {b1}/{b3} name buffer v1/v3, {f1}/{f2} name format v1/v2,
# {k2}/{k3} name buffer kind v2/v3, {a4} names the argument v4
MESSAGES = {
    MSG_EVENTS: "issued more than events_per_tile={v0} events; pass a larger events_per_tile",
    MSG_PEERS: "named more than peers_per_tile={v0} peer tiles in one superstep; pass a larger "
               "peers_per_tile",
    MSG_STAGE: "staged {v1} bytes of SEND / DRAM_WRITE data in one superstep, more than "
               "stage_bytes_per_tile={v0}; pass a larger stage_bytes_per_tile",
    MSG_BUF: "{arg}={v1} is not a buffer id (the machine has {v2} buffers)",
    MSG_BUF_KIND: "{arg} buffer {b1} is a {k2} buffer; this operand must be a {k3} buffer",
    MSG_RANGE: "{arg} range [{v1}, {v1}+{v2}) lies outside buffer {b3} of {v4} bytes",
    MSG_ALIGN: "{arg} offset {v1} is not a multiple of 4 (a float32 operand)",
    MSG_ARG: "{arg}={v1} is out of range; allowed {v2}..{v3}",
    MSG_MULTIPLE: "{arg}={v1} is not a multiple of {v2} (a block size or row length)",
    MSG_FMT: "{arg}={v1} is not a format code (0..12)",
    MSG_FMT_DIMC: "{arg}={f1} is not a DIMC format; allowed: int8, mxint8, mxint4, bfp16, bfp12",
    MSG_FMT_CELLS: "{arg}={f1}: {v2}-bit weights do not pack into the device's {v3}-bit DIMC cells",
    MSG_CONVERT: "vec_convert converts to or from fp32; got fmt_to={f1}, fmt_from={f2}",
    MSG_SLOT_EMPTY: "{arg}={v1} holds no weights on this tile; dimc_load it first",
    MSG_OVERLAP: "{arg} range [{v2}, {v2}+{v3}) of buffer {b1} partly overlaps the {a4} range; "
                 "use disjoint ranges (or the same start, where an op allows it)",
    MSG_DUP: "{arg} lists tile {v1} twice",
    MSG_SELF: "{arg} does not include the issuing tile {v1}",
}
