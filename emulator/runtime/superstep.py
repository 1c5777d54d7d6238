"""Numba twin of csrc/runtime/superstep.c: the tile launcher and the end of a superstep.

`launch_tiles` runs a kernel on every tile of a launch, splitting the tiles into contiguous
chunks run in parallel; each tile gets a ctx tuple over its own SRAM row, DIMC slots and regions
(events, peers, staging, scalars), so results never depend on the chunking. The kernel is passed as
a first-class function of type KERNEL_FN, so this one compiled launcher serves every kernel and
caches (a launcher taking a dispatcher argument is recompiled per kernel and never cached).
`finish` delivers staged SEND / DRAM_WRITE data in log order and compacts the regions.
"""
import numpy as np
from numba import prange, types

from chipemu.emulator._jit import jit
from chipemu.emulator.intrinsics.core import (BT_STORE, DEV_BLOCKS_MAX, DEV_COLS_MAX, DEV_MODE,
                                              DEV_ROWS, DEV_STEP, KERNEL_SIG, MODE_FUNCTIONAL, M_A,
                                              M_OP, M_PEER_COUNT, M_PEER_FIRST, OP_DRAM_WRITE,
                                              OP_SEND, R_BUF, R_OFF, SC_ERROR, SC_EVENTS,
                                              SC_EVENT_CAP, SC_PEERS, SC_PEER_CAP, SC_STAGED,
                                              SC_STAGE_CAP, SC_TILE, S_A, S_OP, S_PEER_COUNT,
                                              S_PEER_FIRST, W_A, W_DST, W_OP, W_PEER_COUNT,
                                              W_PEER_FIRST, copy_bytes, dimc_scratch, ev_get)

__all__ = ["KERNEL_FN", "launch_tiles", "finish"]

KERNEL_FN = types.FunctionType(KERNEL_SIG)
_LAUNCH_SIG = types.int64(
    KERNEL_FN, types.uint8[:, ::1], types.int8[:, :, :, ::1], types.uint8[:, :, :, ::1],
    types.float32[:, ::1], types.int8[:, ::1], types.uint8[::1], types.uint8[::1],
    types.int64[:, ::1], types.uint32[:, ::1], types.uint32[::1], types.uint8[::1],
    types.int64[:, ::1], types.int64[::1], types.int64[::1], types.int64, types.int64,
    types.int64, types.int64, types.int64, types.int64)


@jit(parallel=True, signature=_LAUNCH_SIG)
def launch_tiles(kernel, sram, codes, scales, tscale, wfmt, dram, host, bufs, events, peers, stage,
                 sc, dev, params, ev0, p0, ecap, pcap, scap, nchunks):
    """Run kernel on launch tiles 0..n-1 (sc[i, SC_TILE] is tile i's id); a chunk stops at its
    first tile that broke a rule. events/peers regions start at rows ev0/p0."""
    n = sc.shape[0]
    rows, cmax, bmax = dev[DEV_ROWS], dev[DEV_COLS_MAX], dev[DEV_BLOCKS_MAX]
    for ch in prange(nchunks):
        n8, n64, n32, nf32 = dimc_scratch(rows, cmax, bmax)
        si8 = np.empty(n8, np.int8)
        sf64 = np.empty(n64, np.float64)
        si32 = np.empty(n32, np.int32)
        sf32 = np.empty(nf32, np.float32)
        for i in range(n * ch // nchunks, n * (ch + 1) // nchunks):
            st = sc[i]
            t = st[SC_TILE]
            st[SC_EVENT_CAP] = ecap
            st[SC_PEER_CAP] = pcap
            st[SC_STAGE_CAP] = scap
            ctx = (sram[t], codes[t], scales[t], tscale[t], wfmt[t], dram, host, bufs,
                   events[ev0 + i * ecap:ev0 + (i + 1) * ecap],
                   peers[p0 + i * pcap:p0 + (i + 1) * pcap],
                   stage[i * scap:(i + 1) * scap], st, dev, si8, sf64, si32, sf32)
            kernel(ctx, t, dev[DEV_STEP], params)
            if st[SC_ERROR] != 0:
                break
    return 0


@jit
def _deliver(sram, dram, bufs, events, eb, ne, peers, pb, stage, sb):
    """Copy one tile's staged data to its destinations, in the tile's program order."""
    cursor = sb
    for j in range(ne):
        w = events[eb + j]
        op = ev_get(w, W_OP, S_OP, M_OP)
        nbytes = ev_get(w, W_A, S_A, M_A)
        if op == OP_SEND or op == OP_DRAM_WRITE:
            at = bufs[np.int64(w[W_DST + R_BUF]), BT_STORE] + np.int64(w[W_DST + R_OFF])
            if op == OP_SEND:
                first = ev_get(w, W_PEER_FIRST, S_PEER_FIRST, M_PEER_FIRST)
                for q in range(ev_get(w, W_PEER_COUNT, S_PEER_COUNT, M_PEER_COUNT)):
                    d = np.int64(peers[pb + first + q])
                    copy_bytes(sram[d], at, stage, cursor, nbytes)
            else:
                copy_bytes(dram, at, stage, cursor, nbytes)
            cursor += nbytes


@jit
def finish(sram, dram, bufs, events, peers, stage, sc, dev, ev0, p0, ecap, pcap, scap):
    """Deliver staged data (functional mode) and compact the launch's regions into a contiguous
    log starting at events row ev0 and peers index p0; returns (events, peers) appended."""
    functional = dev[DEV_MODE] == MODE_FUNCTIONAL
    e_out = 0
    p_out = 0
    for i in range(sc.shape[0]):
        ne, npr = sc[i, SC_EVENTS], sc[i, SC_PEERS]
        if ne == 0:
            continue
        eb, pb = ev0 + i * ecap, p0 + i * pcap
        if functional and sc[i, SC_STAGED] > 0:
            _deliver(sram, dram, bufs, events, eb, ne, peers, pb, stage, i * scap)
        for j in range(ne):                 # peer slices: region-local -> log-global
            if ev_get(events[eb + j], W_PEER_COUNT, S_PEER_COUNT, M_PEER_COUNT) != 0:
                events[eb + j, W_PEER_FIRST] += np.uint32(p0 + p_out)
        for j in range(ne):
            for w in range(events.shape[1]):
                events[ev0 + e_out + j, w] = events[eb + j, w]
        for j in range(npr):
            peers[p0 + p_out + j] = peers[pb + j]
        e_out += ne
        p_out += npr
    return e_out, p_out
