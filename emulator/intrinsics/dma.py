"""Numba twin of csrc/intrinsics/dma.c: data movement and synchronisation intrinsics.

send, dram_read, dram_write, host_read and barrier (table in docs/intrinsics.md). Every intrinsic
validates its arguments in the same order as its C twin, appends one event, and in functional mode
moves the data; it returns 0, or ERR_KERNEL after recording the broken rule (and then does nothing,
as does every later intrinsic of the tile).
BSP: SEND and DRAM_WRITE data is staged now and delivered after the superstep (runtime/superstep.py).
"""
import numpy as np

from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics.core import (ARG_DST, ARG_DST_TILES, ARG_GROUP, ARG_NBYTES,
                                              ARG_SRC, BUF_DRAM, BUF_HOST, BUF_SRAM, CTX_BUFS,
                                              CTX_DEV, CTX_DRAM, CTX_EVENTS, CTX_HOST, CTX_PEERS,
                                              CTX_SC, CTX_SRAM, CTX_STAGE, DEV_N_TILES, DEV_STEP,
                                              ERR_KERNEL, FALSE, I0, I1, IM1, IN_BARRIER,
                                              IN_DRAM_READ, IN_DRAM_WRITE, IN_HOST_READ, IN_SEND,
                                              KERR_CAPACITY, KERR_SHAPE, MAX_COUNT, MAX_PEERS,
                                              MSG_DUP, MSG_PEERS, MSG_SELF, MSG_STAGE, OP_BARRIER,
                                              OP_DRAM_READ, OP_DRAM_WRITE, OP_HOST_READ, OP_SEND,
                                              SC_ERROR, SC_PEERS, SC_PEER_CAP, SC_STAGED,
                                              SC_STAGE_CAP, SC_TILE, TRUE, W_DST, W_SRC0, check_arg,
                                              check_range, copy_bytes, ev_clear, ev_commit,
                                              ev_peers, ev_range, fail, functional, new_event,
                                              store_of)

__all__ = ["send", "dram_read", "dram_write", "host_read", "barrier"]


@jit
def n_tiles(ctx):
    """Tiles of the device."""
    return ctx[CTX_DEV][DEV_N_TILES]


@jit
def tile_of(ctx):
    """Global id of the tile running the kernel."""
    return ctx[CTX_SC][SC_TILE]


@jit
def step_of(ctx):
    """The superstep being run."""
    return ctx[CTX_DEV][DEV_STEP]


@jit
def _put_peers(peers, sc, intr, arg, ids, n, need_self):
    """Copy n tile ids into the peer region, sorted; check duplicates (and the issuer).
    Returns the local index of the first id, or -1 after recording an error."""
    first = sc[SC_PEERS]
    if first + n > sc[SC_PEER_CAP]:
        fail(sc, intr, KERR_CAPACITY, MSG_PEERS, sc[SC_PEER_CAP], I0, I0, I0, I0)
        return -1
    p = peers[first:first + n]
    for i in range(n):
        p[i] = np.uint32(ids[i])
    p.sort()
    me = sc[SC_TILE]
    found = False
    for i in range(n):
        if i > 0 and p[i] == p[i - 1]:
            fail(sc, intr, KERR_SHAPE, MSG_DUP, arg, np.int64(p[i]), I0, I0, I0)
            return -1
        if np.int64(p[i]) == me:
            found = True
    if need_self and not found:
        fail(sc, intr, KERR_SHAPE, MSG_SELF, arg, me, I0, I0, I0)
        return -1
    return first


@jit
def _check_tiles(sc, dev, intr, arg, ids):
    nt = dev[DEV_N_TILES]
    n = ids.shape[0]
    if not check_arg(sc, intr, arg, n, I1, min(nt, MAX_PEERS)):
        return False
    for i in range(n):
        if not check_arg(sc, intr, arg, np.int64(ids[i]), I0, nt - 1):
            return False
    return True


@jit
def _check_stage(sc, intr, nbytes):
    if sc[SC_STAGED] + nbytes <= sc[SC_STAGE_CAP]:
        return True
    fail(sc, intr, KERR_CAPACITY, MSG_STAGE, sc[SC_STAGE_CAP], sc[SC_STAGED] + nbytes, I0, I0, I0)
    return False


@jit
def _stage(sram, bufs, stage, sc, dev, buf, off, nbytes):
    if functional(dev):
        at = sc[SC_STAGED]
        s = store_of(bufs, buf) + off
        copy_bytes(stage, at, sram, s, nbytes)
    sc[SC_STAGED] += nbytes


@jit
def _send(sram, bufs, ev, peers, stage, sc, dev, dst_tiles, src_buf, src_off, dst_buf, dst_off,
          nbytes):
    intr = IN_SEND
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    if (not _check_tiles(sc, dev, intr, ARG_DST_TILES, dst_tiles)
            or not check_arg(sc, intr, ARG_NBYTES, nbytes, I1, MAX_COUNT)
            or not check_range(sc, bufs, intr, ARG_SRC, src_buf, src_off, nbytes, BUF_SRAM)
            or not check_range(sc, bufs, intr, ARG_DST, dst_buf, dst_off, nbytes, BUF_SRAM)):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0 or not _check_stage(sc, intr, nbytes):
        return ERR_KERNEL
    n = dst_tiles.shape[0]
    first = _put_peers(peers, sc, intr, ARG_DST_TILES, dst_tiles, n, FALSE)
    if first < 0:
        return ERR_KERNEL
    _stage(sram, bufs, stage, sc, dev, src_buf, src_off, nbytes)
    sc[SC_PEERS] += n
    w = ev[e]
    ev_clear(w)
    ev_range(w, W_SRC0, src_buf, src_off, nbytes)
    ev_range(w, W_DST, dst_buf, dst_off, nbytes)
    ev_peers(w, first, n)
    ev_commit(w, sc, dev, OP_SEND, IM1, IM1, I0, nbytes, I0, I0)
    return 0


@jit
def send(ctx, dst_tiles, src_buf, src_off, dst_buf, dst_off, nbytes):
    """Copy nbytes of SRAM buffer src_buf at src_off to dst_buf at dst_off on every tile of
    dst_tiles (an int array: one or several destinations); visible there from the next superstep."""
    return _send(ctx[CTX_SRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_PEERS], ctx[CTX_STAGE],
                 ctx[CTX_SC], ctx[CTX_DEV], dst_tiles, np.int64(src_buf), np.int64(src_off),
                 np.int64(dst_buf), np.int64(dst_off), np.int64(nbytes))


@jit
def _dma(sram, arena, bufs, ev, stage, sc, dev, intr, op, sk, dk, src_buf, src_off, dst_buf,
         dst_off, nbytes):
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    if (not check_arg(sc, intr, ARG_NBYTES, nbytes, I1, MAX_COUNT)
            or not check_range(sc, bufs, intr, ARG_SRC, src_buf, src_off, nbytes, sk)
            or not check_range(sc, bufs, intr, ARG_DST, dst_buf, dst_off, nbytes, dk)):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0:
        return ERR_KERNEL
    if op == OP_DRAM_WRITE:
        if not _check_stage(sc, intr, nbytes):
            return ERR_KERNEL
        _stage(sram, bufs, stage, sc, dev, src_buf, src_off, nbytes)
    elif functional(dev):
        s = store_of(bufs, src_buf) + src_off
        d = store_of(bufs, dst_buf) + dst_off
        copy_bytes(sram, d, arena, s, nbytes)
    w = ev[e]
    ev_clear(w)
    ev_range(w, W_SRC0, src_buf, src_off, nbytes)
    ev_range(w, W_DST, dst_buf, dst_off, nbytes)
    ev_commit(w, sc, dev, op, IM1, IM1, I0, nbytes, I0, I0)
    return 0


@jit
def dram_read(ctx, src_buf, src_off, dst_buf, dst_off, nbytes):
    """DRAM buffer range -> SRAM buffer range (DRAM as it was when the superstep began)."""
    return _dma(ctx[CTX_SRAM], ctx[CTX_DRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_STAGE],
                ctx[CTX_SC], ctx[CTX_DEV], IN_DRAM_READ, OP_DRAM_READ, BUF_DRAM, BUF_SRAM,
                np.int64(src_buf), np.int64(src_off), np.int64(dst_buf), np.int64(dst_off),
                np.int64(nbytes))


@jit
def dram_write(ctx, src_buf, src_off, dst_buf, dst_off, nbytes):
    """SRAM buffer range -> DRAM buffer range (lands after the superstep, in log order)."""
    return _dma(ctx[CTX_SRAM], ctx[CTX_DRAM], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_STAGE],
                ctx[CTX_SC], ctx[CTX_DEV], IN_DRAM_WRITE, OP_DRAM_WRITE, BUF_SRAM, BUF_DRAM,
                np.int64(src_buf), np.int64(src_off), np.int64(dst_buf), np.int64(dst_off),
                np.int64(nbytes))


@jit
def host_read(ctx, src_buf, src_off, dst_buf, dst_off, nbytes):
    """Host buffer range -> SRAM buffer range."""
    return _dma(ctx[CTX_SRAM], ctx[CTX_HOST], ctx[CTX_BUFS], ctx[CTX_EVENTS], ctx[CTX_STAGE],
                ctx[CTX_SC], ctx[CTX_DEV], IN_HOST_READ, OP_HOST_READ, BUF_HOST, BUF_SRAM,
                np.int64(src_buf), np.int64(src_off), np.int64(dst_buf), np.int64(dst_off),
                np.int64(nbytes))


@jit
def _barrier(ev, peers, sc, dev, group):
    intr = IN_BARRIER
    if sc[SC_ERROR] != 0:
        return ERR_KERNEL
    if not _check_tiles(sc, dev, intr, ARG_GROUP, group):
        return ERR_KERNEL
    e = new_event(sc, intr)
    if e < 0:
        return ERR_KERNEL
    n = group.shape[0]
    first = _put_peers(peers, sc, intr, ARG_GROUP, group, n, TRUE)
    if first < 0:
        return ERR_KERNEL
    sc[SC_PEERS] += n
    w = ev[e]
    ev_clear(w)
    ev_peers(w, first, n)
    ev_commit(w, sc, dev, OP_BARRIER, IM1, IM1, I0, I0, I0, I0)
    return 0


@jit
def barrier(ctx, group):
    """Wait for every tile of `group` (an int array that includes the issuing tile)."""
    return _barrier(ctx[CTX_EVENTS], ctx[CTX_PEERS], ctx[CTX_SC], ctx[CTX_DEV], group)
