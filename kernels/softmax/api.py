"""`softmax`: y[r, :] = exp(x[r, :] - max) / sum(exp(x[r, :] - max)) on the emulated device,
the columns split over tiles with two cross-tile reductions (docs/softmax.md).

    from chipemu.kernels import softmax
    r = softmax(x)                       # x float32 [rows, cols]
    r.output, r.cycles, r.phases["compute"], r.energy_breakdown

The NumPy reference replaying the same order is kernels/softmax/ref.py.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ShapeError
from chipemu.kernels.layer import LayerOp
from chipemu.kernels.scaffold import (Run, as_device, check_data, check_mode,
                                     elementwise_metrics, gather_cols, shape_of, strict_keywords)
from chipemu.kernels.softmax import data as D
from chipemu.kernels.softmax.plan import plan_softmax
from chipemu.kernels.softmax.ref import softmax_float64, softmax_reference
from chipemu.kernels.softmax.tile import (SMX_EXP, SMX_LOAD, SMX_MAX, SMX_MAX_REDUCE, SMX_SCALE,
                                          SMX_SUM_REDUCE)

__all__ = ["softmax", "run_softmax", "events_of", "compute_phase", "OP"]


def events_of(plan) -> int:
    """Events of one call: load 1 per member + 1 (the root's constant); max 2 per member - 1
    (the root sends nothing); the root's max T - 1 + 1 (+ the multicast); exp 4 per member - 1;
    the root's sum T - 1 + 1 (+ the multicast); scale 1 per member."""
    t = plan.tiles
    reduce = t + (t > 1)
    return (t + 1) + (2 * t - 1) + reduce + (4 * t - 1) + reduce + t


def compute_phase(run, plan, p) -> None:
    """The compute supersteps (maxima, their reduction, exp and sums, their reduction, the
    scaling) on the members, inside the caller's phase; x and the constant are in SRAM already."""
    tiles, rb = list(range(plan.tiles)), plan.rows * 4
    root = [plan.root]
    run.launch(SMX_MAX, tiles, p, events_per_tile=2, peers_per_tile=1, stage_bytes_per_tile=rb)
    run.launch(SMX_MAX_REDUCE, root, p, events_per_tile=plan.tiles + 1,
               peers_per_tile=plan.tiles - 1, stage_bytes_per_tile=rb)
    run.launch(SMX_EXP, tiles, p, events_per_tile=4, peers_per_tile=1, stage_bytes_per_tile=rb)
    run.launch(SMX_SUM_REDUCE, root, p, events_per_tile=plan.tiles + 1,
               peers_per_tile=plan.tiles - 1, stage_bytes_per_tile=rb)
    run.launch(SMX_SCALE, tiles, p, events_per_tile=1, peers_per_tile=0, stage_bytes_per_tile=0)


@strict_keywords
def softmax(x, *, device=None, backend="c", mode="functional", network=None, progress=None):
    """Softmax of each row of x [rows, cols] -> Result.

    x: a float32/float16/bfloat16 array (converted to float32), or a shape tuple in timing mode.
    device: a Device, preset name or .toml path (None: corsair); backend "c" | "numba"; mode
    "functional" | "timing". Result.output is float32 [rows, cols] (None in timing mode); a row
    holding NaN or +inf, or only -inf, comes out all NaN (docs/softmax.md). Phases "load" (host
    -> SRAM) and "compute", which is "max" (the cross-tile maximum), "sum" (exp and the
    cross-tile sum) and "scale"; metrics the elements, member tiles, elements per cycle.
    """
    run = Run("softmax", device, mode=mode, backend=backend, network=network, progress=progress)
    dev, timing = run.device, run.timing
    xs, xa = shape_of(x, "x", timing)
    if len(xs) != 2:
        raise ShapeError(f"x must be [rows, cols]; got shape {xs}")
    rows, cols = xs
    plan = plan_softmax(rows, cols, dev)
    # refuse before any state: in functional mode x's float32 copy and its tile-ordered copy,
    # the host arena (grown 2x), every tile's SRAM and the output
    data = 0 if timing else 5 * rows * cols * 4 + dev.n_tiles * sum(plan.sram.values())
    mach = run.start(events=events_of(plan), host_bytes=data)
    if timing:
        host = {"x_host": None, "consts_host": None}
    else:
        host = {"x_host": D.x_by_tile(np.asarray(xa, np.float32), plan),
                "consts_host": D.constants()}
    sizes = {"x_host": rows * cols * 4, "consts_host": 4}
    bufs = {name: run.host(name, host[name], sizes[name]) for name in sizes}
    for name, nbytes in plan.sram.items():
        bufs[name] = mach.alloc_sram(name, nbytes)
    p = D.params(plan, dev.n_tiles, bufs)
    tiles = list(range(plan.tiles))
    with run.phase("load"):
        run.launch(SMX_LOAD, tiles, p, events_per_tile=2, peers_per_tile=0,
                   stage_bytes_per_tile=0)
    with run.phase("compute"):
        first = mach.step
        compute_phase(run, plan, p)
    out = None if timing else gather_cols(mach, bufs["y"], plan.rows,
                                          map(plan.tile_cols, range(plan.tiles)))
    # inside compute: the cross-tile maximum (partial maxima to the root, its maxima and the
    # multicast of -max), exp with the cross-tile sum (and the multicast of 1/sum), the scaling
    phases = dict(run.phases, max=[first, first + 1], sum=[first + 2, first + 3],
                  scale=[first + 4])
    r = run.finish(output=out, plan=plan.to_dict(), phases=phases)
    return elementwise_metrics(r, rows * cols, tiles=plan.tiles)


@strict_keywords
def run_softmax(device=None, *, backend="c", mode="functional", progress=None, rows=16,
                cols=4096, scale=4.0, seed=0):
    """Softmax of rows of N(0, scale^2) logits; functional mode checks it against the NumPy
    reference (bit for bit) and float64."""
    rows, cols = (args.integer(name, v, 1, error=ShapeError)
                  for name, v in (("rows", rows), ("cols", cols)))
    scale = args.real("scale", scale, 0.0, 1e30)
    seed = args.integer("seed", seed, 0)
    if check_mode(mode) == "timing":
        return softmax((rows, cols), device=device, backend=backend, mode="timing",
                       progress=progress)
    # x, the output, the reference's copies and temporaries, the float64 yardstick (2 words)
    check_data(f"run_softmax rows={rows}, cols={cols}", (rows, cols), (rows, cols),
               (3, rows, cols), (2, rows, cols))
    rng = np.random.default_rng(seed)
    x = (scale * rng.standard_normal((rows, cols))).astype(np.float32)
    r = softmax(x, device=device, backend=backend, progress=progress)
    plan = plan_softmax(rows, cols, as_device(device))
    r.metrics["equal_to_reference"] = bool(np.array_equal(
        r.output.view(np.uint32), softmax_reference(x, plan).view(np.uint32)))
    exact = softmax_float64(x)
    r.metrics["max_rel_error_vs_float64"] = float(np.max(np.abs(r.output - exact)
                                                         / np.maximum(exact, 1e-300)))
    return r


OP = LayerOp("softmax", inputs=("x",), output="y", compute=compute_phase,
             constants=D.constant_data)
