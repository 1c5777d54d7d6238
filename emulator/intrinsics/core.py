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
from chipemu.emulator.numerics.codec import F_BLOCK_SIZE, F_ELEM_BITS, F_KIND, F_MBITS, TABLE
from chipemu.emulator.tables import event as _event, formats as _formats, ids as _ids
from chipemu.emulator.tables import limits as _limits

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
    types.uint32[:, ::1],        # this tile's event region, EVENT_WORDS words per chipemu_event
    types.uint32[::1],           # this tile's peer region
    types.uint8[::1],            # this tile's staging region
    types.int64[::1],            # this tile's scalars SC_*
    types.int64[::1],            # device constants DEV_*
    types.int8[::1], types.float64[::1], types.int32[::1], types.float32[::1],   # scratch
))
KERNEL_SIG = types.void(CTX_TYPE, types.int64, types.int64, types.int64[::1])

# ---- constants: the tables of chipemu.emulator.tables, which chipemu.h is generated from ----
# Values passed to compiled helpers are NumPy int64 scalars, not Python ints: Numba types a Python
# int constant argument as a literal and compiles a separate specialization per value. Plain ints
# stay where they only index arrays (DEV_, SC_, BT_, MODE_, KIND_). Defined here, by prefix:
#   MODE_ DEV_ SC_ BT_ (ints); KERR_ IN_ BUF_ OP_ VOP_ FLAG_ MSG_ ARG_ (int64), with their _COUNTs.
_I64 = np.int64
for _table, _cast in ((_ids.MODES, int), (_ids.DEV, int), (_ids.SC, int), (_ids.BT, int),
                      (_ids.KERR, _I64), (_ids.IN, _I64), (_ids.OPS, _I64), (_ids.VOPS, _I64),
                      (_ids.FLAGS, _I64), (_ids.MSG, _I64), (_ids.ARG, _I64)):
    globals().update(_table.constants(_cast))
BUF_SRAM, BUF_DRAM, BUF_HOST = (_I64(_ids.BUF_KINDS[k]) for k in ("sram", "dram", "host"))
ERR_KERNEL = _I64(_ids.STATUS["err_kernel"])
KIND_FP32, KIND_BF16, KIND_FP16, KIND_INT_TENSOR, KIND_BLOCK_INT, KIND_BLOCK_FP = (
    _formats.KIND_FP32, _formats.KIND_BF16, _formats.KIND_FP16, _formats.KIND_INT_TENSOR,
    _formats.KIND_BLOCK_INT, _formats.KIND_BLOCK_FP)
FMT_FP32 = _I64(next(f.code for f in _formats.FORMATS if f.name == "fp32"))
ARG_NAMES = _ids.ARG.names()
MAX_COUNT = _I64(_limits.LIMIT["count"].highest)       # CORE_MAX_COUNT
MAX_PEERS = _I64(_limits.LIMIT["peers"].highest)       # tiles named by one send / barrier
I0, I1, IM1, I8, I16 = _I64(0), _I64(1), _I64(-1), _I64(8), _I64(16)
TRUE, FALSE = np.bool_(True), np.bool_(False)

# ---- the event record as uint32 words (tables.event): field x is (w[W_X] >> S_X) & M_X ----
# Ranges start at words W_SRC0 / W_SRC1 / W_DST, their members at + R_BUF / R_OFF / R_LEN.
NO_BUF = _event.NO_BUF
EVENT_WORDS = _event.EVENT.size // 4
for _name, _w in _event.EVENT.words().items():
    if "." not in _name:
        _key = _name.upper()
        globals()["W_" + _key] = _I64(_w.word)
        if _w.mask:                                     # a scalar field, not a range
            globals().update({"S_" + _key: _I64(_w.shift), "M_" + _key: _I64(_w.mask)})
R_BUF, R_OFF, R_LEN = (_I64(_event.RANGE.words()[k].word) for k in ("buf", "off", "len"))
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
def kernel_word(ctx, p, word, lo, hi):
    """True if a tile kernel's header word p[word] lies in [lo, hi] (a divisor, a shift count);
    else records MSG_PARAM as the C twin's kernel_word (csrc/intrinsics/core.h) does, so a
    parameter vector no planner made is refused alike by both twins."""
    v = p[word]
    if v >= lo and v <= hi:
        return True
    fail(ctx[CTX_SC], IM1, KERR_SHAPE, MSG_PARAM, IM1, v, _I64(lo), _I64(hi), _I64(word))
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
    kind = _TABLE[fmt, F_KIND]
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
    return _TABLE[fmt, F_KIND]


@jit
def fmt_bits(fmt):
    return _TABLE[fmt, F_ELEM_BITS]


@jit
def fmt_mbits(fmt):
    return _TABLE[fmt, F_MBITS]


@jit
def fmt_block(fmt):
    return _TABLE[fmt, F_BLOCK_SIZE]


_cols_eff = jit(_formats.cols_eff)          # the Python definition, compiled


@jit
def cols_eff(dev, fmt):
    """Weight columns of a DIMC slot holding `fmt` weights (tables.formats.cols_eff)."""
    return _cols_eff(dev[DEV_COLS], dev[DEV_CELL_BITS], fmt_bits(fmt))


@jit
def row_bytes(fmt, n):
    """Bytes of one row of n elements in a format's device layout (docs/intrinsics.md)."""
    kind = _TABLE[fmt, F_KIND]
    if kind == KIND_FP32:
        return 4 * n
    if kind == KIND_BF16 or kind == KIND_FP16:
        return 2 * n
    if kind == KIND_INT_TENSOR:
        return n + 4
    bits, bs = _TABLE[fmt, F_ELEM_BITS], _TABLE[fmt, F_BLOCK_SIZE]
    return (n * bits + 7) // 8 + (n + bs - 1) // bs


@jit
def new_event(sc, intr):
    """Index of the next event of the tile's region, or -1 after recording MSG_EVENTS."""
    if sc[SC_EVENTS] >= sc[SC_EVENT_CAP]:
        fail(sc, intr, KERR_CAPACITY, MSG_EVENTS, sc[SC_EVENT_CAP], I0, I0, I0, I0)
        return -1
    return sc[SC_EVENTS]


# ---- writing an event: the setters of csrc/intrinsics/core.h (core_clear, core_set_range, ...) ----
# A record is filled as in C: ev_clear, then ev_range / ev_peers / ev_flags as the op needs, then
# ev_commit, which sets the common fields and counts the event. w is the record: ev[e].

@jit
def _set(w, word, shift, mask, v):
    """Field (shift, mask) of word `word` set to v, the word's other bits kept."""
    w[word] = np.uint32((np.int64(w[word]) & ~(mask << shift)) | ((v & mask) << shift))


@jit
def ev_get(w, word, shift, mask):
    """Field (shift, mask) of word `word` of a record (ev_get(w, W_OP, S_OP, M_OP): its op)."""
    return (np.int64(w[word]) >> shift) & mask


@jit
def ev_clear(w):
    """Zero the record and mark its three ranges unused (buf NO_BUF), as core_clear."""
    for i in range(EVENT_WORDS):
        w[i] = 0
    w[W_SRC0 + R_BUF] = NO_BUF
    w[W_SRC1 + R_BUF] = NO_BUF
    w[W_DST + R_BUF] = NO_BUF


@jit
def ev_range(w, at, buf, off, length):
    """Set the range starting at word `at` (W_SRC0, W_SRC1 or W_DST), as core_set_range."""
    w[at + R_BUF] = np.uint32(buf)
    w[at + R_OFF] = np.uint32(off)
    w[at + R_LEN] = np.uint32(length)


@jit
def ev_peers(w, first, count):
    """The op's peers: peers[first : first + count] of the tile's region (SEND, BARRIER)."""
    _set(w, W_PEER_FIRST, S_PEER_FIRST, M_PEER_FIRST, first)
    _set(w, W_PEER_COUNT, S_PEER_COUNT, M_PEER_COUNT, count)


@jit
def ev_flags(w, flags):
    _set(w, W_FLAGS, S_FLAGS, M_FLAGS, flags)


@jit
def ev_commit(w, sc, dev, op, fmt, fmt2, unit, a, b, c):
    """Set the fields every op has (tile and superstep from sc and dev) and count the event, as
    core_commit."""
    _set(w, W_OP, S_OP, M_OP, op)
    _set(w, W_FMT, S_FMT, M_FMT, fmt)
    _set(w, W_FMT2, S_FMT2, M_FMT2, fmt2)
    _set(w, W_UNIT, S_UNIT, M_UNIT, unit)
    _set(w, W_TILE, S_TILE, M_TILE, sc[SC_TILE])
    _set(w, W_STEP, S_STEP, M_STEP, dev[DEV_STEP])
    _set(w, W_A, S_A, M_A, a)
    _set(w, W_B, S_B, M_B, b)
    _set(w, W_C, S_C, M_C, c)
    sc[SC_EVENTS] += 1


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
INTRINSIC_NAMES = _ids.intrinsic_names()        # name of each IN_* id (IN_VEC + kind: vec_<kind>)
# message id -> text; {arg} names v0, {b1}/{b3} name buffer v1/v3, {f1}/{f2} name format v1/v2,
# {k2}/{k3} name buffer kind v2/v3, {a4} names the argument v4
MESSAGES = {_I64(m.value): m.text for m in _ids.MSG.ids}
