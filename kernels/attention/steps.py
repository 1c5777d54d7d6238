"""The steps of an attention run shared by `attention` (api.py) and a KV cache's decode step
(cache.py): host buffers and their per-tile offsets, query bytes, the compute supersteps, the
gather of the output and the metrics."""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import CapacityError, ConfigError
from chipemu.emulator.runtime import Machine
from chipemu.kernels.attention import data as D
from chipemu.kernels.attention.params import ATTENTION
from chipemu.kernels.attention.tile import AT_Q, AT_STEP
from chipemu.kernels.scaffold import check_backend, check_mode

__all__ = ["offsets", "alloc", "dram_homes", "alloc_dram", "kv_bytes", "write_queries", "write_biases", "run_compute",
           "load_queries", "compute", "add_metrics", "gather", "compute_events", "host_bytes",
           "check_scale", "check_machine", "check_sram"]


def check_scale(scale):
    """scale as a float (None stays None), or ConfigError: a finite real number."""
    if scale is None:
        return None
    try:
        return args.real("scale", scale)
    except OverflowError:           # an int beyond any float
        raise ConfigError(f"scale={scale!r} is out of range; allowed: a finite number") from None


def offsets(plan, tiles, bpt):
    """Per tile, its byte offsets in the host buffers (regions sized for the plan's worst case)."""
    per = plan.d_splits + plan.v_splits
    kv_t = bpt * per * plan.slot_bytes
    q_t = plan.rounds * plan.d_splits * plan.mq * plan.q_row_bytes
    b_t = max(1, plan.n_bias) * plan.mq * plan.bk * 4
    offs = {}
    for i, tile in enumerate(sorted(tiles)):
        offs[tile] = {"kv": i * kv_t, "q": i * q_t, "q_bytes": q_t, "bias": i * b_t,
                      "bias_bytes": 0}
    n = len(tiles)
    return offs, {"kv_host": n * kv_t, "q_host": n * q_t, "bias_host": n * b_t}
    return offs, {"kv_host": n * kv_t, "q_host": n * q_t, "bias_host": n * b_t}


def dram_homes(plan, tiles, channels) -> dict:
    """A cache homed in DRAM: {global channel: [tiles]}, each tile's slot images on channel
    k mod channels of its own chiplet, k its rank among the cache's tiles there (its channels
    stream alike)."""
    tpc, rank, out = plan.device_tiles_per_chiplet, {}, {}
    for tile in sorted(tiles):
        c = tile // tpc
        k = rank[c] = rank.get(c, -1) + 1
        out.setdefault(c * channels + k % channels, []).append(tile)
    return out


def alloc_dram(mach, plan, offs, channels, name):
    """The DRAM buffers of a cache homed in DRAM (one per channel used, dram_homes), their ids
    and offsets into offs[tile]["dram_buf"], ["dram"]; every channel's room checked first."""
    kv_t = plan.blocks_per_tile * (plan.d_splits + plan.v_splits) * plan.slot_bytes
    homes = dram_homes(plan, offs, channels)
    for ch, ts in sorted(homes.items()):
        free = mach.dram_free_bytes(ch)
        if free is not None and len(ts) * kv_t > free:
            raise CapacityError(f"{name}: its K/V slot images need {len(ts) * kv_t} bytes on "
                                f"DRAM channel {ch}, {free} are free")
    for ch, ts in sorted(homes.items()):
        buf = mach.alloc_dram(f"{name}:ch{ch}", len(ts) * kv_t, channel=ch)
        for i, t in enumerate(ts):
            offs[t].update(dram_buf=buf, dram=i * kv_t)


def alloc(mach, plan, sizes, timing, sram_pool=None):
    bufs = {}
    for name, size in sizes.items():
        bufs[name] = (mach.alloc_host(name, nbytes=size) if timing
                      else mach.alloc_host(name, np.zeros(size, np.uint8)))
    const = np.stack([np.full(plan.mq, D.MINIT, np.float32), np.full(plan.mq, -1, np.float32),
                      np.full(plan.mq, np.finfo(np.float32).tiny, np.float32)])
    bufs["const_host"] = (mach.alloc_host("const", nbytes=const.nbytes) if timing
                          else mach.alloc_host("const", const))
    if sram_pool is not None:           # kernels/attention/placed.SharedSram
        bufs.update(sram_pool.alloc(plan.sram))
        return bufs
    mach.reserve_sram(mach.sram_bytes_used + sum(plan.sram.values()))   # after what is there
    for name, nbytes in plan.sram.items():
        if nbytes:
            bufs[name] = mach.alloc_sram(name, nbytes)
    return bufs


def kv_bytes(plan, tiles, kv_u):
    per = plan.d_splits + plan.v_splits
    out = np.zeros((len(tiles), plan.blocks_per_tile, per, plan.slot_bytes), np.uint8)
    for i, tile in enumerate(sorted(tiles)):
        u, mem = tiles[tile][0], tiles[tile][1]
        run = plan.k_run(mem)
        out[i, :len(run)] = kv_u[u, run.start:run.stop:run.step]
    return out.reshape(-1)


def write_queries(mach, plan, tiles, offs, bufs, q_u):
    """Each tile's query rows ([round][d split][mq][row bytes]) and its bias blocks."""
    for tile in sorted(tiles):
        u, _, rep, _, _ = tiles[tile]
        qb = np.zeros((plan.rounds, plan.d_splits, plan.mq, plan.q_row_bytes), np.uint8)
        for rnd in range(plan.rounds):
            c = plan.chunk_of(rnd, rep)
            if c < plan.chunks:
                r0, r1 = plan.chunk_rows(c)
                qb[rnd, :, :r1 - r0] = q_u[u, r0:r1].transpose(1, 0, 2)
        mach.write(bufs["q_host"], qb, offset=offs[tile]["q"])
    write_biases(mach, tiles, offs, bufs)


def write_biases(mach, tiles, offs, bufs):
    """Each tile's bias blocks into the host buffer at_q reads them from."""
    for tile in sorted(tiles):
        arrs = [a for _, a in sorted(tiles[tile][4].values(), key=lambda t: t[0])]
        if arrs:
            mach.write(bufs["bias_host"], np.stack(arrs), offset=offs[tile]["bias"])


def _ev_step(plan):
    """Most events a tile logs in one compute superstep."""
    per = plan.d_splits + plan.v_splits
    stream = 1 + per if plan.kv_home == "dram" else 0    # read and load each block first
    return plan.blocks_per_tile * (2 * per + 18 + stream) + 6 * plan.v_splits + 20


def compute_events(plan, ids):
    """Most events of run_compute on tiles `ids` (at_q, the barrier, the compute supersteps),
    for the run budget."""
    return len(ids) * (3 + 1 + plan.rounds * plan.stages * _ev_step(plan))


def host_bytes(plan, dev, sizes, timing):
    """Host bytes of a run besides its log and keep mask, for the run budget: in functional
    mode the host buffers (`sizes`, from offsets), the query and K/V bytes built for them
    (about as large again), every tile's SRAM and the output; timing mode keeps sizes only."""
    if timing:
        return 0
    out = plan.units * plan.nq * plan.v_splits * plan.cols * 4
    return 2 * sum(sizes.values()) + dev.n_tiles * sum(plan.sram.values()) + 2 * out


def run_compute(run, plan, p, ids):
    """at_q (query rows, bias, constants) and a barrier in phase "load", then the compute
    supersteps in phase "compute". The bias bytes per tile are set in p by the caller."""
    with run.phase("load"):
        load_queries(run, plan, p, ids)
    with run.phase("compute"):
        compute(run, plan, p, ids)


def load_queries(run, plan, p, ids):
    """at_q (query rows unless q_bytes is 0, bias, constants), then a barrier."""
    run.launch(AT_Q, ids, p, events_per_tile=3, peers_per_tile=1, stage_bytes_per_tile=64)
    run.barrier(ids)


def compute(run, plan, p, ids):
    """The compute supersteps (at_step), in the caller's phase."""
    ev_step = _ev_step(plan)
    part = (2 + plan.v_splits * plan.cols) * plan.mq * 4
    for s in range(plan.rounds * plan.stages):
        p[ATTENTION.H.step] = s
        run.launch(AT_STEP, ids, p, events_per_tile=ev_step, peers_per_tile=1,
                   stage_bytes_per_tile=part + 64)


def add_metrics(r, plan):
    comp = r.phase_list[-1]
    r.metrics.update(compute_cycles=comp.cycles, compute_energy_pj=comp.energy_fj / 1000.0,
                     blocks_computed=int((plan.status > 0).sum()),
                     blocks_skipped=int((plan.status == 0).sum()),
                     energy_per_token_pj=comp.energy_fj / 1000.0 / (plan.b * plan.sq),
                     tiles_used=plan.span * plan.replicas)


def gather(mach, plan, ybuf):
    C, vs = plan.cols, plan.v_splits
    out = np.zeros((plan.units, plan.nq, vs * C), np.float32)
    for c in range(plan.chunks):
        rep, rnd = plan.replica_of(c), c // plan.replicas
        r0, r1 = plan.chunk_rows(c)
        for u in range(plan.units):
            tile = plan.tile_of(u, 0, rep)
            for t in range(vs):
                off = ((rnd * vs + t) * plan.mq) * C * 4
                out[u, r0:r1, t * C:(t + 1) * C] = mach.read(
                    ybuf, tile=tile, offset=off, nbytes=(r1 - r0) * C * 4,
                    dtype=np.float32).reshape(r1 - r0, C)
    g = plan.group
    out = out[:, :, :plan.d].reshape(plan.b, plan.hkv, g, plan.sq, plan.d)
    return out.reshape(plan.b, plan.hq, plan.sq, plan.d)


def check_machine(machine, dev, mode, backend):
    """(mode, backend): the machine's when one is given (the arguments None or the same; the
    machine one of `dev`), else the arguments' (None: functional, c)."""
    if machine is None:
        return (check_mode("functional" if mode is None else mode),
                check_backend("c" if backend is None else backend))
    if not isinstance(machine, Machine):
        raise ConfigError(f"machine={args.show(machine)} ({type(machine).__name__}); allowed: "
                          f"None or a chipemu Machine (e.g. a Card's)")
    if machine.params != dev.engine_params():
        raise ConfigError(f"machine= is not a machine of device {dev.name!r}; allowed: a "
                          f"Machine made for the cache's device (pass device= its device)")
    for name, value, own in (("mode", mode, machine.mode), ("backend", backend, machine.backend)):
        if value is not None and value != own:
            raise ConfigError(f"{name}={value!r} with machine=: the machine's is {own!r}; "
                              f"allowed: None or {own!r}")
    return machine.mode, machine.backend


def check_sram(machine, sram, dev):
    """CapacityError, before any buffer exists, when the buffers {name: bytes} do not fit what
    the machine's tiles (a fresh one's when machine is None) have left."""
    used = 0 if machine is None else machine.sram_bytes_used
    need = sum(-(-v // 64) * 64 for v in sram.values())
    free = dev.sram_buffer_bytes - -(-used // 64) * 64
    if need > free:
        raise CapacityError(f"a KV cache's buffers need {need} bytes of SRAM on every tile "
                            f"({sram}); {max(free, 0)} of {dev.sram_buffer_bytes} are free on "
                            f"the machine ({used} in use)")
