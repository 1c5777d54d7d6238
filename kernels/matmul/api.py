"""`matmul`: GEMM, GEMV and batched matmul on the emulated chiplet mesh (docs/matmul.md).

    from chipemu.kernels import matmul
    r = matmul(a, b, fmt="mxint8")            # a [..., M, K] activations, b [K, N] weights
    r.output, r.cycles, r.phases["compute"], r.energy_breakdown, r.plan

The planner (kernels/matmul/plan.py) maps the weights onto DIMC slots of every chiplet, the tile
kernels (kernels/matmul/tile.py, csrc/kernels/matmul/tile.c) run the supersteps, the engine
times the log. The NumPy reference that replays the plan is kernels/matmul/ref.py.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from chipemu.emulator.errors import ConfigError, ShapeError
from chipemu.emulator.numerics.formats import DIMC_FORMATS
from chipemu.kernels.blocks import pad2, w_blocks, x_blocks
from chipemu.kernels.matmul import data as D
from chipemu.kernels.matmul.floor import floor_cycles
from chipemu.kernels.matmul.params import MATMUL
from chipemu.kernels.matmul.plan import plan_matmul
from chipemu.kernels.matmul.tile import MM_LOAD, MM_STEP
from chipemu.emulator import args
from chipemu.kernels.scaffold import (Run, check_data, check_mode, dimc_format, shape_of,
                                     steps_mask, strict_keywords)

__all__ = ["matmul", "run_matmul", "DIMC_FORMATS", "floor_cycles"]

# The pieces of one call, shared with chipemu.kernels.card (placed weights): sizes of a plan, the
# host codes, the SRAM buffers, the load phase, the compute phase, the gather and the metrics.

def _check(a_shape, b_shape):
    if len(a_shape) < 2:
        raise ShapeError(f"a has shape {a_shape}; it must be [..., M, K] (at least 2-D)")
    if len(b_shape) != 2:
        raise ShapeError(f"b has shape {b_shape}; it must be [K, N] (2-D weights)")
    if a_shape[-1] != b_shape[0]:
        raise ShapeError(f"K mismatch: a is {a_shape} (K={a_shape[-1]}) but b is {b_shape} "
                         f"(K={b_shape[0]})")
    if any(v < 1 for v in a_shape) or any(v < 1 for v in b_shape):
        raise ShapeError(f"zero-sized dimension: a {a_shape}, b {b_shape}; all must be >= 1")


@strict_keywords
def matmul(a, b, *, fmt="mxint8", weight_fmt=None, device=None, backend="c",
           mode="functional", network=None, progress=None, debug_hook=None, region=None):
    """a [..., M, K] @ b [K, N] on the device's DIMC arrays -> Result.

    a: activations (float32/float16/bfloat16; in timing mode also a shape tuple), quantized to
    `fmt`; b: weights, quantized to `weight_fmt` (default: fmt). Formats: mxint8, mxint4, bfp16,
    bfp12, int8. device: a Device, preset name or .toml path (None: corsair). backend "c" |
    "numba"; mode "functional" | "timing". Result.output is float32 [..., M, N] (None in timing
    mode); Result.phases has "load" (weights into the arrays, activations onto the chiplets) and
    "compute"; Result.metrics the MACs, achieved vs peak TFLOPS, pJ/MAC and the floor.
    debug_hook(machine, plan): called once the weights are loaded, before the compute phase
    (fault studies, e.g. machine.corrupt_weight(tile, slot, row, col, code)).
    region: a chipemu.kernels.region.Region the matmul is confined to (its chiplets, tiles and
    DIMC slots; None: the whole device, the same plan as the whole region).
    Every argument is checked, and the run's events and host bytes estimated from the plan
    against the run budget (chipemu.emulator.runtime.budget), before any state exists.
    """
    run = Run("matmul", device, mode=mode, backend=backend, network=network, progress=progress)
    dev, timing = run.device, run.timing
    if debug_hook is not None and not callable(debug_hook):
        raise ConfigError(f"debug_hook={debug_hook!r}; allowed: None or a callable "
                          f"debug_hook(machine, plan)")
    fa = dimc_format(fmt, "fmt", dev)
    fw = dimc_format(weight_fmt if weight_fmt is not None else fmt, "weight_fmt", dev)
    a_shape, a_arr = shape_of(a, "a", timing)
    b_shape, b_arr = shape_of(b, "b", timing)
    _check(a_shape, b_shape)
    m = int(np.prod(a_shape[:-1], dtype=object))
    k, n = b_shape
    plan = plan_matmul(m, k, n, fa, fw, dev, region=region)
    sz = sizes(plan)
    mach = run.start(events=sz.events, host_bytes=_host_bytes(
        dev, plan.sram, m * sz.kp + sz.kp * sz.np_, sz.wsize + sz.xsize, m * sz.np_, timing))
    wdata = xdata = None
    if not timing:
        xdata = x_codes(plan, np.asarray(a_arr, np.float32).reshape(m, k), backend)
        wdata = w_codes(plan, b_arr, backend)
    bufs = {"w_host": run.host("w", wdata, sz.wsize),
            "x_host": run.host("x", xdata if xdata is not None else np.zeros(1, np.uint8),
                               sz.xsize)}
    del wdata, xdata
    bufs.update(alloc_sram(mach, plan))
    p = D.params(plan, dev.n_tiles, bufs, sz.woffs, sz.blocks, sz.xoffs)
    load_phase(run, sz, p)
    if debug_hook is not None:
        debug_hook(mach, plan)
    compute_phase(run, plan, sz, p)
    out = None if timing else gather(mach, plan, bufs["y"], a_shape[:-1], m, n)
    r = run.finish(output=out, plan=plan.to_dict())
    metrics(r, plan, dev)
    return r


class Sizes(NamedTuple):
    """What a plan implies before any state exists: host layouts, tiles, events per launch."""
    woffs: dict
    wsize: int
    blocks: dict
    xoffs: dict
    xsize: int
    tiles: list
    kp: int
    np_: int
    ev_load: int
    ev_step: int
    events: int
    peers_step: int
    stage: int


def sizes(plan) -> Sizes:
    R, C = plan.rows, plan.cols
    _, woffs, wsize, blocks = D.w_host(plan, None)        # sizes only: nothing allocated yet
    _, xoffs, xsize = D.x_host(plan, None)
    tiles = sorted(blocks)
    nkg = max(len(plan.kgroup_tiles(c, 0)) for c in range(plan.chiplets_used))
    ev_load = 2 * plan.blocks_per_tile + 2
    ev_step = (plan.pieces_per_tile + plan.blocks_per_tile * (2 if plan.passes > 1 else 1) + 3)
    events = len(tiles) * (ev_load + 1 + plan.compute_supersteps * ev_step)
    stage = plan.pieces_per_tile * plan.piece_rows * plan.row_bytes + plan.mc * C * 4 + 64
    return Sizes(woffs, wsize, blocks, xoffs, xsize, tiles, plan.kb * R, plan.nb * C, ev_load,
                 ev_step, events, plan.pieces_per_tile * nkg + 1, stage)


def x_codes(plan, a2, backend):
    """The activations [m, k] float32 as the holders' pieces (byte arrays, host layout)."""
    xb3 = x_blocks(pad2(a2, plan.m, plan.kb * plan.rows), plan.fmt, plan.rows, backend=backend)
    return D.x_host(plan, xb3)[0]


def w_codes(plan, b, backend):
    """The weights [k, n] as every tile's blocks (byte arrays, host layout)."""
    wb3 = w_blocks(pad2(np.asarray(b, np.float32), plan.kb * plan.rows, plan.nb * plan.cols),
                   plan.weight_fmt, plan.rows, plan.cols, backend=backend)
    return D.w_host(plan, wb3)[0]


def alloc_sram(mach, plan) -> dict:
    """The plan's SRAM buffers on `mach` -> {name: buffer id}."""
    mach.reserve_sram(mach.sram_bytes_used + sum(plan.sram.values()))
    return {name: mach.alloc_sram(name, plan.sram[name]) for name in D.buffer_names
            if name in plan.sram}


def load_phase(run, sz, p, name="load"):
    """mm_load on the plan's tiles, then a barrier: everything loaded before the compute phase
    starts, so it measures the matmul alone."""
    with run.phase(name):
        run.launch(MM_LOAD, sz.tiles, p, events_per_tile=sz.ev_load, peers_per_tile=1,
                   stage_bytes_per_tile=64)
        run.barrier(sz.tiles)


def compute_steps(run, plan, sz, p):
    """Every compute superstep of the plan (weights already in the slots when passes == 1),
    in the caller's phase."""
    for s in range(plan.compute_supersteps):
        p[MATMUL.H.step] = s
        run.launch(MM_STEP, sz.tiles, p, events_per_tile=sz.ev_step,
                   peers_per_tile=sz.peers_step, stage_bytes_per_tile=sz.stage)


def compute_phase(run, plan, sz, p):
    """The compute supersteps as the phase "compute"."""
    with run.phase("compute"):
        compute_steps(run, plan, sz, p)


def _host_bytes(dev, sram, elements, host, outputs, timing):
    """Host bytes a run allocates besides its log, for the budget: in functional mode about 12
    bytes per padded input element (float32 copies, codes and the codec's temporaries), the
    host arena (grown 2x) and its parts, every tile's SRAM and the output; timing mode keeps
    sizes only."""
    if timing:
        return 0
    return 12 * elements + 3 * host + dev.n_tiles * sum(sram.values()) + 8 * outputs


def out_blocks(plan):
    """Where the output lives: (tile, byte offset in y, first row, rows, N-block) per N-block
    and chunk; each is rows x C float32, row-major (columns nb*C .. of which those < n count)."""
    yb = plan.mc * plan.cols * 4
    where = plan.positions()
    for nb in range(plan.nb):
        for c in range(plan.chunks):
            base, u = plan.group_base(nb, plan.replica_of(c)), plan.round_of(c)
            r0, r1 = plan.chunk_rows(c)
            if plan.g == 1:
                chip, pos = where[base]
                nbi = plan.tile_nbs(chip, pos % plan.span).index(nb)
                yield base, (u * plan.nb_per_tile + nbi) * yb, r0, r1 - r0, nb
            else:
                tile = plan.group_tiles(nb, plan.replica_of(c))[plan.root(c)]
                yield tile, (u // plan.g) * yb, r0, r1 - r0, nb


def gather(mach, plan, ybuf, rows_shape, m, n):
    """Read every chunk's reduced output from the tile that holds it -> [*rows_shape, n]."""
    C = plan.cols
    out = np.empty((m, plan.nb * C), np.float32)
    for tile, off, r0, rows, nb in out_blocks(plan):
        out[r0:r0 + rows, nb * C:(nb + 1) * C] = mach.read(
            ybuf, tile=tile, offset=off, nbytes=rows * C * 4, dtype=np.float32).reshape(rows, C)
    return out[:, :n].reshape(*rows_shape, n)


def metrics(r, plan, dev):
    from chipemu.emulator.events import OP_NAMES
    compute = r.phase_list[1]
    ev = r.events.events
    sel = steps_mask(ev, compute.steps)
    by_op = np.bincount(ev["op"][sel], weights=None, minlength=len(OP_NAMES))
    fj = {OP_NAMES[o]: int(r.timing.energy_fj_event[sel][ev["op"][sel] == o].sum())
          for o in np.flatnonzero(by_op)}
    macs = plan.m * plan.k * plan.n
    macs_dev = plan.m * plan.kb * plan.rows * plan.nb * plan.cols
    peak = dev.peak_macs_per_second(plan.fmt, plan.weight_fmt)
    secs = compute.seconds
    floor = floor_cycles(plan, dev)
    r.metrics.update(
        macs=macs, macs_padded=macs_dev, compute_cycles=compute.cycles,
        achieved_tflops=2 * macs / secs / 1e12 if secs else 0.0,
        peak_tflops=2 * peak / 1e12,
        fraction_of_peak=macs / secs / peak if secs else 0.0,
        compute_pj_per_mac=compute.energy_fj / 1000.0 / macs,
        pj_per_mac=r.energy_fj / 1000.0 / macs, compute_energy_fj_by_op=fj, **floor,
        floor_ratio=compute.cycles / floor["floor_cycles"] if floor["floor_cycles"] else 0.0)


@strict_keywords
def run_matmul(device=None, *, backend="c", mode="functional", progress=None, m=4096, k=4096,
               n=4096, fmt="mxint8", weight_fmt=None, seed=0):
    """A random [m, k] x [k, n] matmul (N(0,1) data); functional mode adds its error vs NumPy."""
    m, k, n = (args.integer(name, v, 1, error=ShapeError) for name, v in (("m", m), ("k", k),
                                                                          ("n", n)))
    seed = args.integer("seed", seed, 0)
    if check_mode(mode) == "timing":
        return matmul((m, k), (k, n), fmt=fmt, weight_fmt=weight_fmt, device=device,
                      backend=backend, mode="timing", progress=progress)
    # a, b, the output and NumPy's a @ b
    check_data(f"run_matmul m={m}, k={k}, n={n}", (m, k), (k, n), (m, n), (m, n))
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    r = matmul(a, b, fmt=fmt, weight_fmt=weight_fmt, device=device, backend=backend,
               progress=progress)
    exact = a @ b
    r.metrics["max_rel_error_vs_numpy"] = float(np.abs(r.output - exact).max()
                                                / max(np.abs(exact).max(), 1e-30))
    return r
