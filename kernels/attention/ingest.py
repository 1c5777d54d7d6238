"""A KV cache step whose new queries, keys and values are already on the device (docs/attention.md,
"Inputs on the device").

    cache = KVCache(k, v, max_len=4112, heads=32, device_inputs=True)
    write_inputs(cache, q, k_new, v_new)         # or a program's moves (input_blocks)
    r = cache.step_on_device(1)                  # quantized and written on the device

**Inputs.** Unit u = (b, kvh) has a home, its member 0 (plan.tile_of(u, 0)); there, float32
row-major at offset 0: `q_in` the [Sq, G*D] block of the queries [B*Sq, Hq*D] (rows b*Sq..,
columns kvh*G*D..: token i's G heads side by side), `k_in` and `v_in` the [Sq, D] blocks of the
keys and values [B*Sq, Hkv*D] (columns kvh*D..). `input_blocks` lists them.

**Shadows.** Each member tile keeps the float32 keys and values of the key blocks it is filling
(`kshadow`, `vshadow`: `shadow_blocks` blocks of [block_keys, D]; its i-th block on the tile
uses shadow block i mod shadow_blocks, enough for the blocks one step can touch there): a new
key is a column of K^T, and a DIMC load writes whole rows, so the slot is quantized again from
its keys (as the host path does); V's block scales run over 32 or 64 keys, so a new row changes
its group. The fill loads the open blocks' keys; host steps keep the shadows current.

**Supersteps.** "ingest": on each home, q * scale (one float per row) is quantized row by row and
D split into the query rows [chunk][split][mq][row bytes], multicast to the other members, and
the new keys and values go to the shadow rows of the tiles holding their blocks (a copy on the
home itself); then each tile with a rewritten block quantizes its K^T slots (all rows) and the
touched V rows from the shadows into the weights layout (vec_convert_weights) and loads them. The
query rows are not read from the host: "load" keeps the bias blocks, the softmax constants and,
when the scale changed, the scale row. "compute" is the attention's as ever. Outputs, DIMC
contents and the host path's are bit for bit the same (tests/test_kernels_attention_ingest.py).
"""
from __future__ import annotations

import contextlib

import numpy as np

from chipemu.emulator.errors import ConfigError, ShapeError
from chipemu.emulator.numerics.formats import KIND_INT_TENSOR, get_format
from chipemu.kernels.attention import data as D
from chipemu.kernels.attention import steps as S
from chipemu.kernels.attention.params import ATTENTION, INGEST
from chipemu.kernels.attention.tile import AT_INGEST

__all__ = ["sram_sizes", "host_size", "input_blocks", "output_blocks", "write_inputs",
           "check_device_inputs", "step_records", "fill_loads", "sync_loads", "build", "alloc",
           "launch_loads", "launch_ingest", "step_events", "run_device_step", "read_new_keys"]


def check_device_inputs(plan):
    """ShapeError unless the query rows split into whole R-element parts (head_dim % R == 0)."""
    if plan.d % plan.rows:
        raise ShapeError(f"device_inputs=True: head_dim={plan.d} is not a multiple of the DIMC "
                         f"rows R={plan.rows} (a query row is quantized in parts of R); "
                         f"allowed: head_dim a multiple of {plan.rows}, or device_inputs=False")


def shadow_blocks(plan, max_new) -> int:
    """Shadow blocks per tile: the most key blocks a step of max_new tokens touches on one tile
    (blocks go to the members in turn)."""
    touched = (max_new + plan.bk - 2) // plan.bk + 1
    return min(plan.blocks_per_tile, -(-touched // plan.members))


def _shadow_row(plan, max_new, j):
    """First shadow row of key block j on its tile."""
    return (j // plan.members) % shadow_blocks(plan, max_new) * plan.bk


def sram_sizes(plan, max_new) -> dict:
    """Bytes per tile of the buffers a cache with device inputs adds (64-byte multiples)."""
    up = lambda n: -(-n // 64) * 64                              # noqa: E731
    d, g = plan.d, plan.group
    shadow = up(shadow_blocks(plan, max_new) * plan.bk * d * 4)
    return {"q_in": up(max_new * g * d * 4), "k_in": up(max_new * d * 4),
            "v_in": up(max_new * d * 4), "qs": up(max_new * g * d * 4),
            "qscale": up(max_new * g * 4), "kshadow": shadow, "vshadow": shadow}


def _span(plan, max_new):
    """Floats per unit and kind (keys, values) in the host buffer: an open block or a step."""
    return max(plan.bk, max_new) * plan.d


def host_size(plan, max_new) -> int:
    """Bytes of the host buffer: per unit its keys then values, the scale row, the softmax
    constants (3 rows of mq floats)."""
    return plan.units * 2 * _span(plan, max_new) * 4 + plan.group * max_new * 4 + 12 * plan.mq


def input_blocks(cache, sq) -> dict:
    """{"q" | "k" | "v": [(tile, buf, off, row0, rows, col0, cols, stride)]}: where a step of sq
    tokens reads its float32 inputs (the module docstring); rows / columns of the tensors
    q [B*Sq, Hq*D], k and v [B*Sq, Hkv*D]."""
    p, b = cache.plan, cache.bufs
    g, d = p.group, p.d
    out = {"q": [], "k": [], "v": []}
    for u in range(p.units):
        bb, kvh = divmod(u, p.hkv)
        home = p.tile_of(u, 0)
        out["q"].append((home, b["q_in"], 0, bb * sq, sq, kvh * g * d, g * d, g * d))
        out["k"].append((home, b["k_in"], 0, bb * sq, sq, kvh * d, d, d))
        out["v"].append((home, b["v_in"], 0, bb * sq, sq, kvh * d, d, d))
    return out


def output_blocks(plan, ybuf) -> list:
    """[(tile, buf, off, row0, rows, col0, cols, stride)]: where a step's float32 output
    [B*Sq, Hq*D] lies (on the homes, in y: [chunk][v split][mq][C])."""
    out, C, g, sq = [], plan.cols, plan.group, plan.sq
    for u in range(plan.units):
        bb, kvh = divmod(u, plan.hkv)
        home = plan.tile_of(u, 0)
        for c in range(plan.chunks):
            r0, r1 = plan.chunk_rows(c)
            for h in range(r0 // sq, -(-r1 // sq)):       # head h's tokens inside the chunk
                a, z = max(r0, h * sq), min(r1, (h + 1) * sq)
                for t in range(plan.v_splits):
                    off = (((c * plan.v_splits + t) * plan.mq) + a - r0) * C * 4
                    out.append((home, ybuf, off, bb * sq + a - h * sq, z - a,
                                (kvh * g + h) * plan.d + t * C, min(C, plan.d - t * C), C))
    return out


def write_inputs(cache, q, k, v):
    """Put float32 q [B, Hq, Sq, D], k, v [B, Hkv, Sq, D] into the input buffers (host writes,
    not logged: what the kernels before the step would have left there; functional mode)."""
    if cache.timing:
        raise ConfigError("write_inputs needs a functional cache (timing mode keeps no data)")
    p, mach = cache.plan, cache.machine
    sq = np.shape(q)[2]
    if np.shape(q) != (cache.b, cache.hq, sq, cache.d) or not 1 <= sq <= cache.max_new \
            or np.shape(k) != (cache.b, cache.hkv, sq, cache.d) or np.shape(v) != np.shape(k):
        raise ShapeError(f"write_inputs: q {np.shape(q)}, k {np.shape(k)}, v {np.shape(v)}; "
                         f"allowed: q [{cache.b}, {cache.hq}, Sq, {cache.d}], k and v "
                         f"[{cache.b}, {cache.hkv}, Sq, {cache.d}], 1 <= Sq <= {cache.max_new}")
    qq = np.asarray(q, np.float32).reshape(cache.b, cache.hkv, p.group, sq, cache.d)
    for u in range(p.units):
        bb, kvh = divmod(u, p.hkv)
        home = p.tile_of(u, 0)
        mach.write(cache.bufs["q_in"], np.ascontiguousarray(qq[bb, kvh].transpose(1, 0, 2)),
                   tile=home)
        mach.write(cache.bufs["k_in"], np.ascontiguousarray(k[bb, kvh], np.float32), tile=home)
        mach.write(cache.bufs["v_in"], np.ascontiguousarray(v[bb, kvh], np.float32), tile=home)


def _bv(plan):
    """V rows sharing a block scale (int8: the whole slot)."""
    f = get_format(plan.kv_fmt)
    return plan.rows if f.kind == KIND_INT_TENSOR else f.block_size


def step_records(plan, lengths, sq, max_new):
    """(route records of the homes, commit records of the holders) of a step of sq tokens:
    {home: (members it multicasts to, [(tile, first input row, rows, first shadow row)])},
    {tile: [(block index on the tile, keys in the block, first V row, V rows, V rows with
    keys, the block's first shadow row)]}."""
    bk, bv = plan.bk, _bv(plan)
    homes, commits = {}, {}
    for u in range(plan.units):
        lo = int(lengths[u // plan.hkv])
        hi, routes, i = lo + sq, [], 0
        while i < sq:                                     # runs of tokens in one block
            j = (lo + i) // bk
            i1 = min(sq, (j + 1) * bk - lo)
            routes.append((plan.tile_of(u, j % plan.members), i, i1 - i,
                           _shadow_row(plan, max_new, j) + (lo + i) % bk))
            i = i1
        homes[plan.tile_of(u, 0)] = ([plan.tile_of(u, m) for m in range(1, plan.members)],
                                     routes)
        for j in range(lo // bk, -(-hi // bk)):
            valid = min(bk, hi - j * bk)
            k0, k1 = max(lo, j * bk) - j * bk, min(hi, (j + 1) * bk) - j * bk
            g0, g1 = k0 // bv, -(-k1 // bv)
            commits.setdefault(plan.tile_of(u, j % plan.members), []).append(
                (j // plan.members, valid, g0 * bv, (g1 - g0) * bv, min(valid, g1 * bv) - g0 * bv,
                 _shadow_row(plan, max_new, j)))
    return homes, commits


def fill_loads(cache):
    """{tile: [(host off, buf, off, bytes)]} loading each unit's open block into its holder's
    shadows, the scale row into the homes and the softmax constants into every tile (the device
    path does not read them again); the host bytes written (functional)."""
    p, b = cache.plan, cache.bufs
    span, d, bk = _span(p, cache.max_new), p.d, p.bk
    loads = {}
    for u in range(p.units):
        lo = int(cache.lengths[u // p.hkv])
        j, n = divmod(lo, bk)
        if n:
            at = u * 2 * span * 4
            if not cache.timing:
                cache.machine.write(b["kv_f32"], cache._k[u, j * bk:lo], offset=at)
                cache.machine.write(b["kv_f32"], cache._v[u, j * bk:lo], offset=at + span * 4)
            row = _shadow_row(p, cache.max_new, j) * d * 4
            loads.setdefault(p.tile_of(u, j % p.members), []).extend(
                [(at, b["kshadow"], row, n * d * 4), (at + span * 4, b["vshadow"], row, n * d * 4)])
    for u in range(p.units):
        loads.setdefault(p.tile_of(u, 0), []).append(scale_load(cache, cache._qscale))
    at = p.units * 2 * span * 4 + p.group * cache.max_new * 4      # the constants, resident
    if not cache.timing:
        cache.machine.write(b["kv_f32"], cache.machine.read(b["const_host"]), offset=at)
    for tile in cache.tiles:
        loads.setdefault(tile, []).append((at, b["const"], 0, 12 * p.mq))
    return loads


def scale_load(cache, scale):
    """The load of the scale row (its host bytes written first, functional)."""
    p = cache.plan
    at = p.units * 2 * _span(p, cache.max_new) * 4
    n = p.group * cache.max_new
    if not cache.timing:
        cache.machine.write(cache.bufs["kv_f32"], np.full(n, scale, np.float32), offset=at)
    return (at, cache.bufs["qscale"], 0, n * 4)


def sync_loads(cache, plan, sq, kk, vv):
    """{tile: [loads]} of a host step's new keys and values kk, vv [units, sq, D] (None in
    timing) into the shadows, their host bytes written."""
    b, span, d = cache.bufs, _span(cache.plan, cache.max_new), plan.d
    homes, _ = step_records(plan, cache.lengths, sq, cache.max_new)
    loads = {}
    for u in range(plan.units):
        at = u * 2 * span * 4
        if kk is not None:
            cache.machine.write(b["kv_f32"], kk[u], offset=at)
            cache.machine.write(b["kv_f32"], vv[u], offset=at + span * 4)
        for tile, i0, n, row in homes[plan.tile_of(u, 0)][1]:
            loads.setdefault(tile, []).extend(
                [(at + i0 * d * 4, b["kshadow"], row * d * 4, n * d * 4),
                 (at + (span + i0 * d) * 4, b["vshadow"], row * d * 4, n * d * 4)])
    return loads


def build(plan, n_tiles, bufs, phase, records, offs=None) -> np.ndarray:
    """The INGEST vector of one phase; records {tile: (home, dst tiles, routes, commits,
    loads)}; offs: the cache's per-tile offsets (its DRAM images, when homed in DRAM)."""
    header = dict(
        phase=phase, head_dim=plan.d, group=plan.group, new_rows=plan.sq, rows=plan.rows,
        d_splits=plan.d_splits, v_splits=plan.v_splits, cols=plan.cols, block_keys=plan.bk,
        chunk_rows=plan.mq, chunks=plan.chunks, q_row_bytes=plan.q_row_bytes,
        fmt=get_format(plan.fmt).code, kv_fmt=get_format(plan.kv_fmt).code,
        slot_base=plan.slot_base, host=bufs["kv_f32"], slot_bytes=plan.slot_bytes,
        kv_dram=int(plan.kv_home == "dram"),
        **{name: bufs[key] for name, key in (
            ("q_in", "q_in"), ("k_in", "k_in"), ("v_in", "v_in"), ("qs_buf", "qs"),
            ("scale_buf", "qscale"), ("q_buf", "q"), ("ks_buf", "kshadow"),
            ("vs_buf", "vshadow"), ("w_buf", "w"))})
    recs = {}
    for tile, (home, dst, routes, commits, loads) in records.items():
        fields = dict(active=1, home=home, n_dst=len(dst), n_routes=len(routes),
                      n_commits=len(commits), n_loads=len(loads),
                      dram_buf=(offs or {}).get(tile, {}).get("dram_buf", -1),
                      dram_off=(offs or {}).get(tile, {}).get("dram", 0))
        tail = list(dst) + [x for e in routes + commits + loads for x in e]
        recs[tile] = (fields, tail)
    return INGEST.build(n_tiles, header, recs)


def no_host_queries(p, plan, tiles):
    """A copy of the ATTENTION vector p for at_q on `tiles` (the tile tables): q_bytes = 0 (the
    ingest superstep writes the query rows), consts = 0 (resident), and of the last bias block
    only the step's query rows (its G * Sq rows, not the chunk's mq)."""
    q = p.copy()
    q[ATTENTION.H.consts] = 0
    R = ATTENTION.R
    for t, entry in tiles.items():
        at = q[ATTENTION.H.count + t]
        q[at + R.q_bytes] = 0
        nb = len(entry[4])
        if nb:
            q[at + R.bias_bytes] = ((nb - 1) * plan.mq + min(plan.mq, plan.nq)) * plan.bk * 4
    return q


# ---- launches ----

def alloc(cache):
    """The device inputs' SRAM buffers and the host buffer, into cache.bufs."""
    mach, p = cache.machine, cache.plan
    sizes = sram_sizes(p, cache.max_new)
    if cache._pool is not None:         # kernels/attention/placed.SharedSram
        cache.bufs.update(cache._pool.alloc(sizes))
    else:
        for name, nbytes in sizes.items():
            cache.bufs[name] = mach.alloc_sram("kv:" + name, nbytes)
    n = host_size(p, cache.max_new)
    cache.bufs["kv_f32"] = (mach.alloc_host("kv:f32", nbytes=n) if cache.timing
                            else mach.alloc_host("kv:f32", np.zeros(n, np.uint8)))


def launch_loads(run, cache, loads):
    """One phase-0 superstep: the host reads {tile: [(host off, buf, off, bytes)]}."""
    if not loads:
        return
    par = build(cache.plan, cache.device.n_tiles, cache.bufs, 0,
                {t: (0, [], [], [], ld) for t, ld in loads.items()})
    run.launch(AT_INGEST, sorted(loads), par, peers_per_tile=1, stage_bytes_per_tile=64,
               events_per_tile=max(len(ld) for ld in loads.values()))


def ingest_events(plan, homes, commits):
    """Most events of the route and commit supersteps on one tile."""
    routes = max(len(r) for _, r in homes.values())
    per = 2 * (plan.d_splits + plan.v_splits)
    return 2 + plan.nq * plan.d_splits + 2 * routes, per * max(len(c) for c in commits.values())


def launch_ingest(run, cache, plan, sq):
    """The route superstep on the homes, then the commit superstep on the holders."""
    homes, commits = step_records(plan, cache.lengths, sq, cache.max_new)
    n = cache.device.n_tiles
    ev_route, ev_commit = ingest_events(plan, homes, commits)
    routes = max(len(r) for _, r in homes.values())
    qbytes = plan.chunks * plan.d_splits * plan.mq * plan.q_row_bytes
    recs = {h: (1, dst, routes_, [], []) for h, (dst, routes_) in homes.items()}
    run.launch(AT_INGEST, sorted(recs), build(plan, n, cache.bufs, 1, recs),
               events_per_tile=ev_route, peers_per_tile=max(1, plan.members - 1 + 2 * routes),
               stage_bytes_per_tile=qbytes + 2 * sq * plan.d * 4 + 64)
    recs = {t: (0, [], [], c, []) for t, c in commits.items()}
    staged = 0                          # DRAM writes land after the superstep: staged
    if plan.kv_home == "dram":
        staged = max(len(c) for c in commits.values()) * (plan.d_splits + plan.v_splits)
    run.launch(AT_INGEST, sorted(recs), build(plan, n, cache.bufs, 2, recs, cache.offs),
               events_per_tile=ev_commit, peers_per_tile=1,
               stage_bytes_per_tile=staged * plan.slot_bytes + 64)


def step_events(plan, lengths, sq, max_new, ids) -> int:
    """Most events of a step with device inputs (for the run budget)."""
    homes, commits = step_records(plan, lengths, sq, max_new)
    ev_route, ev_commit = ingest_events(plan, homes, commits)
    return (len(homes) * (ev_route + 1) + len(commits) * ev_commit
            + S.compute_events(plan, ids))


def run_device_step(run, cache, plan, tiles, sq, scale, phases=True):
    """The supersteps of a step with device inputs (the module docstring): "load" (the scale
    row when it changed, at_q without query rows, a barrier), "ingest", "compute". phases=False
    launches them in the caller's phase (a program's)."""
    ids = sorted(tiles)
    phase = run.phase if phases else (lambda name: contextlib.nullcontext())
    if not cache.timing:                 # the mask's bias blocks are the host's (lengths)
        S.write_biases(cache.machine, tiles, cache.offs, cache.bufs)
    par = no_host_queries(D.params(plan, cache.device.n_tiles, cache.bufs, tiles, cache.offs),
                          plan, tiles)
    with phase("load"):
        if scale != cache._qscale:
            cache._qscale = None                  # unknown until the load has run
            launch_loads(run, cache, {plan.tile_of(u, 0): [scale_load(cache, scale)]
                                      for u in range(plan.units)})
            cache._qscale = scale
        S.load_queries(run, plan, par, ids)
    with phase("ingest"):
        launch_ingest(run, cache, plan, sq)
    with phase("compute"):
        S.compute(run, plan, par, ids)


def read_new_keys(cache, sq):
    """After a step on the device: the new keys and values read back from the homes' input
    buffers into the cache's host copies (bookkeeping for later host-path appends, not logged;
    functional mode)."""
    p, mach = cache.plan, cache.machine
    for u in range(p.units):
        lo = int(cache.lengths[u // p.hkv])
        home = p.tile_of(u, 0)
        for name, arr in (("k_in", cache._k), ("v_in", cache._v)):
            arr[u, lo:lo + sq] = mach.read(cache.bufs[name], tile=home, nbytes=sq * p.d * 4,
                                           dtype=np.float32).reshape(sq, p.d)
