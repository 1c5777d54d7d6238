"""`residual_add`: y = x + r on the emulated device, the columns split over tiles, elementwise
(docs/residual.md).

    from chipemu.kernels import residual_add
    res = residual_add(x, r)             # x, r float32 [rows, hidden]
    res.output, res.cycles, res.phases["compute"], res.energy_breakdown

The NumPy reference is kernels/residual/ref.py.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ShapeError
from chipemu.kernels.layer import LayerOp
from chipemu.kernels.residual import data as D
from chipemu.kernels.residual.plan import plan_residual
from chipemu.kernels.residual.ref import residual_float64, residual_reference
from chipemu.kernels.residual.tile import RES_ADD, RES_LOAD
from chipemu.kernels.scaffold import (Run, check_data, check_mode, elementwise_metrics,
                                     gather_cols, shape_of, strict_keywords)

__all__ = ["residual_add", "run_residual", "events_of", "compute_phase", "OP"]


def events_of(plan) -> int:
    """Events of one call: 2 host reads and 1 vector add per member."""
    return 3 * plan.tiles


def compute_phase(run, plan, p) -> None:
    """res_add on the members, inside the caller's phase; x and r are in SRAM already."""
    run.launch(RES_ADD, list(range(plan.tiles)), p, events_per_tile=1, peers_per_tile=0,
               stage_bytes_per_tile=0)


@strict_keywords
def residual_add(x, r, *, device=None, backend="c", mode="functional", network=None,
                 progress=None):
    """x + r for x, r [rows, hidden] -> Result.

    x, r: float32/float16/bfloat16 arrays (converted to float32) of one shape, or shape tuples in
    timing mode. device: a Device, preset name or .toml path (None: corsair); backend "c" |
    "numba"; mode "functional" | "timing". Result.output is float32 [rows, hidden] (None in
    timing mode); phases "load" (host -> SRAM) and "compute"; metrics the elements, member
    tiles, elements per cycle.
    """
    run = Run("residual", device, mode=mode, backend=backend, network=network, progress=progress)
    dev, timing = run.device, run.timing
    xs, xa = shape_of(x, "x", timing)
    rs, ra = shape_of(r, "r", timing)
    if len(xs) != 2 or rs != xs:
        raise ShapeError(f"x and r must both be [rows, hidden]; got x {xs}, r {rs}")
    rows, hidden = xs
    plan = plan_residual(rows, hidden, dev)
    # refuse before any state: in functional mode both inputs' float32 and tile-ordered copies,
    # the host arena (grown 2x), every tile's SRAM and the output
    data = 0 if timing else 9 * rows * hidden * 4 + dev.n_tiles * sum(plan.sram.values())
    mach = run.start(events=events_of(plan), host_bytes=data)
    nbytes = rows * hidden * 4
    bufs = {"x_host": run.host("x_host", None if timing else
                               D.by_tile(np.asarray(xa, np.float32), plan), nbytes),
            "r_host": run.host("r_host", None if timing else
                               D.by_tile(np.asarray(ra, np.float32), plan), nbytes)}
    for name, size in plan.sram.items():
        bufs[name] = mach.alloc_sram(name, size)
    p = D.params(plan, dev.n_tiles, bufs)
    tiles = list(range(plan.tiles))
    with run.phase("load"):
        run.launch(RES_LOAD, tiles, p, events_per_tile=2, peers_per_tile=0,
                   stage_bytes_per_tile=0)
    with run.phase("compute"):
        compute_phase(run, plan, p)
    out = None if timing else gather_cols(mach, bufs["y"], plan.rows,
                                          map(plan.tile_cols, range(plan.tiles)))
    res = run.finish(output=out, plan=plan.to_dict(), phases=run.phases)
    return elementwise_metrics(res, rows * hidden, tiles=plan.tiles)


@strict_keywords
def run_residual(device=None, *, backend="c", mode="functional", progress=None, rows=16,
                 hidden=4096, seed=0):
    """x + r of N(0,1) x and r; functional mode checks it against the NumPy reference (bit for
    bit) and float64."""
    rows, hidden = (args.integer(name, v, 1, error=ShapeError)
                    for name, v in (("rows", rows), ("hidden", hidden)))
    seed = args.integer("seed", seed, 0)
    if check_mode(mode) == "timing":
        return residual_add((rows, hidden), (rows, hidden), device=device, backend=backend,
                            mode="timing", progress=progress)
    # x, r, the output, the reference's copies and the float64 yardstick (2 words)
    check_data(f"run_residual rows={rows}, hidden={hidden}", (rows, hidden), (rows, hidden),
               (rows, hidden), (2, rows, hidden), (2, rows, hidden))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, hidden), dtype=np.float32)
    r = rng.standard_normal((rows, hidden), dtype=np.float32)
    res = residual_add(x, r, device=device, backend=backend, progress=progress)
    res.metrics["equal_to_reference"] = bool(np.array_equal(
        res.output.view(np.uint32), residual_reference(x, r).view(np.uint32)))
    exact = residual_float64(x, r)
    res.metrics["max_rel_error_vs_float64"] = float(np.max(
        np.abs(res.output - exact) / np.maximum(np.abs(exact), 1e-30)))
    return res


OP = LayerOp("residual", inputs=("x", "r"), output="y", compute=compute_phase,
             constants=D.constant_data)
