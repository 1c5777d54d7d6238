"""The writes of a KV cache's K/V into its home (kernels/attention/cache.py): the slot images of
a key block from the host copy, where each block lives (a DIMC slot, or a byte offset in its
tile's DRAM buffer when homed in DRAM), the first fill and each step's appends, which rewrite
only the rows the new keys change (docs/attention.md)."""
from __future__ import annotations

import numpy as np

from chipemu.emulator.numerics.formats import KIND_INT_TENSOR, get_format
from chipemu.kernels.attention import ingest as I
from chipemu.kernels.attention.params import APPEND
from chipemu.kernels.attention.tile import AT_APPEND
from chipemu.kernels.blocks import pad2, w_blocks
from chipemu.kernels.scaffold import Run

__all__ = ["slots", "where", "dst", "write_initial", "run_writes", "launch_writes",
           "append_writes"]


def slots(cache, u, j):
    """Weights layout bytes [d_splits + v_splits, slot_bytes] of key block j of unit u."""
    p, R, C = cache.plan, cache.plan.rows, cache.plan.cols
    keys = slice(j * p.bk, (j + 1) * p.bk)
    kt = w_blocks(pad2(cache._k[u, keys].T, p.dp, p.bk), cache.kv_fmt, R, C, cache.backend)
    vb = w_blocks(pad2(cache._v[u, keys], p.bk, p.v_splits * C), cache.kv_fmt, R, C,
                  cache.backend)
    return np.concatenate([kt[:, 0], vb[0]], axis=0)


def where(cache, u, j):
    """(tile, first DIMC slot of block j on it, host byte offset of that slot); homed in
    DRAM, the byte offset of its first slot image in the tile's DRAM buffer for the slot."""
    p = cache.plan
    i, mem = divmod(j, p.members)                     # block j: member j mod members
    tile = p.tile_of(u, mem)
    per = p.d_splits + p.v_splits
    first = (cache.offs[tile]["dram"] + i * per * p.slot_bytes if cache.kv_home == "dram"
             else p.slot_base + i * per)
    return tile, first, cache.offs[tile]["kv"] + i * per * p.slot_bytes


def dst(cache, first, s, byte_off=0):
    """Slot s of a block (from where()'s first): a DIMC slot, or a DRAM byte offset plus
    byte_off (the rows written start there)."""
    if cache.kv_home == "dram":
        return first + s * cache.plan.slot_bytes + byte_off
    return first + s


def write_initial(cache):
    """Every block below its sequence's length: host -> DIMC, timed on its own as `fill`."""
    p = cache.plan
    writes = {}
    for u in range(p.units):
        for j in range(-(-int(cache.lengths[u // cache.hkv]) // p.bk)):
            tile, slot0, host = where(cache, u, j)
            if not cache.timing:
                cache.machine.write(cache.bufs["kv_host"], slots(cache, u, j), offset=host)
            per = p.d_splits + p.v_splits
            writes.setdefault(tile, []).extend(
                (dst(cache, slot0, s), host + s * p.slot_bytes, p.slot_bytes, 0, p.rows)
                for s in range(per))
    return run_writes(cache, writes, "fill", I.fill_loads(cache) if cache.device_inputs else {})


def run_writes(cache, writes, phase, loads):
    """at_append for `writes` as the first write (phase "fill"), then the host reads `loads`
    of the shadows (device inputs): timed on their own (the log cleared before and after, as
    a Card times its steps)."""
    run = Run("kv_cache_" + phase, cache.device, machine=cache.machine)
    cache.machine.clear_log()
    with run.phase(phase):
        launch_writes(cache, run, writes)
        I.launch_loads(run, cache, loads)
    r = run.finish(plan=cache.plan.to_dict())
    cache.machine.clear_log()
    return r


def launch_writes(cache, run, writes):
    """One at_append superstep rewriting {tile: [(slot, host_off, nbytes, row0, rows)]}."""
    par = APPEND.build(
        cache.device.n_tiles,
        dict(w_buf=cache.bufs["w"], kv_host=cache.bufs["kv_host"],
             kv_fmt=get_format(cache.kv_fmt).code, kv_dram=int(cache.kv_home == "dram")),
        {tile: (dict(writes=len(w), dram_buf=cache.offs[tile].get("dram_buf", -1)),
                [x for one in w for x in one]) for tile, w in writes.items()})
    ids = sorted(writes) or [0]
    most = max((len(w) for w in writes.values()), default=0)
    staged = max((sum(x[2] for x in w) for w in writes.values()), default=0)
    run.launch(AT_APPEND, ids, par, events_per_tile=2 * most, peers_per_tile=1,
               stage_bytes_per_tile=64 + (staged if cache.kv_home == "dram" else 0))


def append_writes(cache, sq, refresh=True):
    """The rewrites of a step of sq new tokens: {tile: [(slot, host_off, nbytes, row0,
    rows)]}, with the host bytes refreshed (functional, when refresh)."""
    p = cache.plan
    fv = get_format(cache.kv_fmt)
    bv = p.rows if fv.kind == KIND_INT_TENSOR else fv.block_size
    gb = p.slot_bytes // (p.rows // bv)
    writes = {}
    for u in range(p.units):
        b = u // cache.hkv
        lo, hi = int(cache.lengths[b]), int(cache.lengths[b]) + sq
        for j in range(lo // p.bk, -(-hi // p.bk)):
            tile, slot0, host = where(cache, u, j)
            if refresh and not cache.timing:
                cache.machine.write(cache.bufs["kv_host"], slots(cache, u, j), offset=host)
            w = writes.setdefault(tile, [])
            for s in range(p.d_splits):                 # K^T: the new keys are columns
                w.append((dst(cache, slot0, s), host + s * p.slot_bytes, p.slot_bytes, 0,
                          p.rows))
            k0, k1 = max(lo, j * p.bk) - j * p.bk, min(hi, (j + 1) * p.bk) - j * p.bk
            g0, g1 = k0 // bv, -(-k1 // bv)
            for t in range(p.v_splits):                 # V: the scale groups they touch
                sl = dst(cache, slot0, p.d_splits + t, g0 * gb)
                w.append((sl, host + (p.d_splits + t) * p.slot_bytes + g0 * gb,
                          (g1 - g0) * gb, g0 * bv, (g1 - g0) * bv))
    return writes
